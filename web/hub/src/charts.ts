// The charts: nebula.js (Qlik's open-source chart library) over the app's engine session.
// Each chart type is loaded the first time a sheet needs it (chart-types.ts).
import { embed } from '@nebula.js/stardust';
import { types } from './chart-types';
import type { Doc } from './engine';

export type Nebula = ReturnType<typeof embed>;

export function charts(doc: Doc): Nebula {
  return embed(doc as never, {
    context: { theme: 'light', language: 'en-US' },
    types: types as never,
  });
}

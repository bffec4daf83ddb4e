// The chart types and their modules, apart from nebula.js itself (charts.ts), so that the
// hub can start loading a sheet's types as soon as it knows them, while nebula.js, a large
// module, still loads and runs.
export const types = [
  { name: 'barchart', load: () => import('@nebula.js/sn-bar-chart').then((m) => m.default) },
  { name: 'linechart', load: () => import('@nebula.js/sn-line-chart').then((m) => m.default) },
  { name: 'piechart', load: () => import('@nebula.js/sn-pie-chart').then((m) => m.default) },
  { name: 'kpi', load: () => import('@nebula.js/sn-kpi').then((m) => m.default) },
  { name: 'table', load: () => import('@nebula.js/sn-table').then((m) => m.default) },
  { name: 'filterpane', load: () => import('@nebula.js/sn-filter-pane').then((m) => m.default) },
  { name: 'pivot-table', load: () => import('@nebula.js/sn-pivot-table').then((m) => m.default) },
  { name: 'combochart', load: () => import('@nebula.js/sn-combo-chart').then((m) => m.default) },
  { name: 'scatterplot', load: () => import('@nebula.js/sn-scatter-plot').then((m) => m.default) },
];

/** The types the hub's chart form makes (from its dimensions and measures). */
export const chartTypes = types.map((t) => t.name);

/** Starts loading the modules of these chart types now (a sheet's, before its charts are
 * made): the modules are large, and nebula.js would ask for them one layer later. */
export function preloadTypes(names: string[]): void {
  for (const t of types) if (names.includes(t.name)) void t.load().catch(() => undefined);
}


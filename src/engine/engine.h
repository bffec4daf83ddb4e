/* engine.h: what other modules use of the engine. The engine's own parts have their own
 * headers (qvd.h, appfile.h, txt.h, script.h, table.h, eval.h, reload.h, assoc.h, cube.h, qix.h);
 * src/engine/README.md says what each does. */
#ifndef FATHOM_ENGINE_H
#define FATHOM_ENGINE_H

#include "engine/appfile.h"
#include "engine/cube.h"
#include "engine/qix.h"
#include "engine/reload.h"

#endif

/**
 * Rich output inside a tslab (Jupyter) kernel, and a quiet no-op everywhere else.
 *
 * tslab's public API (`display.raw(mime, data)`, see node_modules/tslab/dist/public.d.ts)
 * sends exactly one MIME type per display_data message. A figure wants two in the *same*
 * message: `application/vnd.vegalite.v5+json` for JupyterLab and `image/svg+xml` for
 * renderers without a Vega extension (nbconvert HTML, GitHub, VS Code without the
 * extension), so that each frontend picks the richest one it knows and none shows the
 * chart twice. `display.raw` is a thin wrapper over the kernel's current
 * `writeDisplayData(content, update)`, which tslab keeps in the exported variable
 * `lastWriteDisplayData` of `tslab/dist/jupyter.js`; that function accepts a whole
 * `{data, metadata, transient}` bundle. We call it directly. This relies on a tslab
 * internal (checked against tslab 1.0.22); if it is ever missing we fall back to the
 * public single-MIME `display.raw` with the most portable type in the bundle (SVG for
 * figures, HTML for tables).
 *
 * Kernel detection: tslab's executor sets `globalThis.__tslab__` before running any
 * cell, and `lastWriteDisplayData` is non-null only while a cell executes, so mocha,
 * tsx scripts and plain node see no kernel.
 *
 * @example
 *   import { displayBundle } from './display';
 *   displayBundle({ 'text/html': '<b>hi</b>', 'text/plain': 'hi' }); // 'bundle' in tslab, 'none' elsewhere
 */
import type * as Tslab from 'tslab';

export type MimeBundle = Record<string, unknown>;

/** What displayBundle did: the whole bundle, one MIME type through tslab's public API, or nothing. */
export type DisplayOutcome = 'bundle' | 'single' | 'none';

interface DisplayContent {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: Record<string, unknown>;
}
type WriteDisplayData = (content: DisplayContent, update: boolean) => void;

/** Types tried, in order, when only one MIME type can be sent. */
const SINGLE_MIME_PREFERENCE = ['image/svg+xml', 'text/html', 'text/markdown', 'image/png', 'text/plain'];

const JUPYTER_MODULE = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;

/** True when running inside a tslab kernel. */
export function inTslabKernel(): boolean {
  return typeof (globalThis as { __tslab__?: unknown }).__tslab__ === 'object';
}

/** The kernel's current display writer, found in the module cache (any tslab install path). */
function kernelDisplayWriter(): WriteDisplayData | null {
  for (const [file, loaded] of Object.entries(require.cache)) {
    if (!loaded || !JUPYTER_MODULE.test(file)) continue;
    const writer = (loaded.exports as { lastWriteDisplayData?: unknown }).lastWriteDisplayData;
    if (typeof writer === 'function') return writer as WriteDisplayData;
  }
  return null;
}

/**
 * Send one display_data message carrying every MIME type of `bundle` when inside tslab.
 * Binary values (PNG) must already be base64 strings, as Jupyter expects.
 */
export function displayBundle(bundle: MimeBundle): DisplayOutcome {
  if (!inTslabKernel()) return 'none';
  const writer = kernelDisplayWriter();
  if (writer) {
    writer({ data: bundle, metadata: {}, transient: {} }, false);
    return 'bundle';
  }
  const mime = SINGLE_MIME_PREFERENCE.find((type) => typeof bundle[type] === 'string');
  if (!mime) return 'none';
  // Inside the kernel tslab hooks require('tslab') to return its own instance.
  const tslab = require('tslab') as typeof Tslab;
  tslab.display.raw(mime, bundle[mime] as string);
  return 'single';
}

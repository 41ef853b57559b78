/**
 * Training kernels the wasm backend lacks or runs slowly, registered from JS.
 * Each kernel builds on wasm's own XNNPACK-served kernels (Conv2D, BatchMatMul, Transpose, …).
 */
/** Register every project kernel on the wasm backend; returns the kernel names registered. */
export function registerWasmTrainingKernels(): string[] {
  // Filled in by lib/backend/kernels/*.ts (work in progress).
  return [];
}

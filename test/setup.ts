/** Mocha root hooks: every test runs on the engine the library picks (wasm here), chosen once. */
import { initBackend } from '../lib/backend';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120000);
    await initBackend({ quiet: true });
  },
};

// Loaded with --import into Stryker's processes (npm run mutate; checkerNodeArgs in stryker.config.mjs).
// The project compiles with TypeScript 7, whose package has no JavaScript compiler API; Stryker's
// TypeScript checker (and its tsconfig rewriting) needs one, so their `import ts from 'typescript'` is answered with the 5.x
// compiler installed as `typescript-5`. Nothing else sees the redirect.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/@stryker-mutator/')) {
      return nextResolve('typescript-5', context);
    }
    return nextResolve(specifier, context);
  },
});

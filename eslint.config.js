import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', '.cache/**', 'coverage/**', 'lib/dashboard/page.generated.ts', 'test-results/**', '.stryker-tmp/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', performance: 'readonly', URLSearchParams: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // Nothing writes process.env: configuration reaches code as a Runtime (lib/runtime) or as
  // explicit arguments; a child process gets its own env object. scripts/ may set up its shell.
  {
    files: ['lib/**/*.ts', 'functions/**/*.ts', 'local/**/*.ts', 'stacks/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          "AssignmentExpression[left.object.object.name='process'][left.object.property.name='env']",
          "AssignmentExpression[left.object.name='process'][left.property.name='env']",
          "UnaryExpression[operator='delete'][argument.object.object.name='process'][argument.object.property.name='env']",
          "CallExpression[callee.object.name='Object'][callee.property.name='assign'][arguments.0.object.name='process'][arguments.0.property.name='env']",
        ].map((selector) => ({ selector, message: 'process.env is read-only here: pass settings to createRuntime / runtime.with, or an env object to a child process' })),
      ],
    },
  },
  // CommonJS tool configuration (.dependency-cruiser.cjs)
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
);

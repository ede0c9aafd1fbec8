// The house style (shared/STYLE.md): single quotes, 2-space indent, trailing commas, semicolons, on
// the TypeScript and on the JavaScript of e2e/ and bench/ (CommonJS for node, whose JSDoc types
// tsc checks through tsconfig.dev.json).
const tseslint = require('typescript-eslint');

const houseStyle = {
  'quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: true }],
  'indent': ['error', 2, { SwitchCase: 1, ignoredNodes: ['TemplateLiteral *'] }],
  'comma-dangle': ['error', 'always-multiline'],
  'semi': ['error', 'always'],
  '@typescript-eslint/no-explicit-any': 'off',
  '@typescript-eslint/no-require-imports': 'off',
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
};

module.exports = tseslint.config(
  { ignores: ['lib/**', 'dist/**', 'node_modules/**', 'tmp/**', 'scripts/**', '*.js'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: houseStyle,
  },
  {
    // e2e/bin/kubectl has no extension: it is the shim the harness puts first on PATH.
    files: ['e2e/**/*.js', 'bench/**/*.js', 'e2e/bin/kubectl'],
    extends: [tseslint.configs.recommended],
    languageOptions: { sourceType: 'commonjs', ecmaVersion: 2022 },
    rules: houseStyle,
  },
);

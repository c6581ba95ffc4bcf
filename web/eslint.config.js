// ESLint for the front end (`make lint`): the recommended rules, and a few that catch
// mistakes the recommended set lets through. Browser code in src/, node in the tests.
import js from '@eslint/js';
import globals from 'globals';

export default [
  {ignores: ['dist/', 'node_modules/']},
  js.configs.recommended,
  {
    languageOptions: {ecmaVersion: 2022, sourceType: 'module'},
    rules: {
      'no-unused-vars': ['error', {args: 'after-used', caughtErrors: 'all'}],
      'no-shadow': 'error',
      eqeqeq: 'error',
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
  {files: ['src/**/*.js'], languageOptions: {globals: globals.browser}},
  {files: ['test/**/*.js', 'eslint.config.js'], languageOptions: {globals: globals.node}},
];

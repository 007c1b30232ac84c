import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The API serves dist/console at / (apps/api/src/console); `npm run build` runs this.
export default defineConfig(({ mode }) => ({
  // React's production build and JSX transform also when NODE_ENV says otherwise (jest sets it to
  // test, and the e2e suite builds the console).
  define: { 'process.env.NODE_ENV': JSON.stringify(mode === 'production' ? 'production' : 'development') },
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  resolve: {
    alias: { '@rjsf/validator-ajv8': fileURLToPath(new URL('./src/components/ajv-validator-stand-in.ts', import.meta.url)) },
  },
  oxc: { jsx: { runtime: 'automatic', development: mode !== 'production' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Nothing inline: the API's Content-Security-Policy allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    // The schema form's chunk (react-jsonschema-form) is big but loads only with the forms.
    chunkSizeWarningLimit: 800,
    rolldownOptions: {
      // React Server Components' 'use client' markers in react-jsonschema-form mean nothing in a SPA.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
}));

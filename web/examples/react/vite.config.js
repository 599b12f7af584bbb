import { defineConfig, loadEnv } from "vite";

// What useVitalLink (@tryvital/vital-link) loads at run time.
const JUNCTION_LINK_SCRIPT = "https://link.tryvital.io/initialize.js";

// linkWidgetScript points the unmodified hook at another Link widget script
// by rewriting that one URL in the dependency's code.
function linkWidgetScript(scriptURL) {
  const rewrite = (code) => (code.includes(JUNCTION_LINK_SCRIPT) ? code.replaceAll(JUNCTION_LINK_SCRIPT, scriptURL) : null);
  return {
    name: "link-widget-script",
    // The dev server pre-bundles dependencies with esbuild before any
    // plugin sees them, so the rewrite runs there too.
    config: () => ({
      optimizeDeps: {
        esbuildOptions: {
          plugins: [{
            // The URL in the name makes Vite re-bundle when it changes (the
            // pre-bundle cache is keyed by plugin names, among others).
            name: `link-widget-script:${scriptURL}`,
            setup(build) {
              build.onLoad({ filter: /@tryvital[\\/]vital-link[\\/].*\.js$/ }, async (args) => {
                const { readFile } = await import("node:fs/promises");
                const code = await readFile(args.path, "utf8");
                return { contents: rewrite(code) ?? code, loader: "js" };
              });
            },
          }],
        },
      },
    }),
    transform(code) {
      const out = rewrite(code);
      return out === null ? null : { code: out, map: null };
    },
  };
}

// No React plugin: esbuild compiles JSX with React's automatic runtime.
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), "VITE_");
  const linkbff = (env.VITE_LINKBFF_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
  // In development the widget comes from linkbff's embedded Junction
  // emulator, so Connect works offline; production builds keep Junction's
  // script. VITE_LINK_SCRIPT_URL overrides it, e.g. with Junction's URL to
  // try a sandbox key from the dev server.
  const linkScript = env.VITE_LINK_SCRIPT_URL || (mode === "production" ? JUNCTION_LINK_SCRIPT : `${linkbff}/_junction/link/initialize.js`);
  // linkbff's dev sign-in (/_dev/token) is not a CORS route, so the dev
  // server forwards it; the /v1 API is called cross-origin, with CORS.
  const proxy = { "/_dev": { target: linkbff, changeOrigin: true } };
  return {
    plugins: linkScript === JUNCTION_LINK_SCRIPT ? [] : [linkWidgetScript(linkScript)],
    esbuild: { jsx: "automatic" },
    server: { port: 5173, strictPort: true, proxy },
    preview: { port: 5173, strictPort: true, proxy },
  };
});

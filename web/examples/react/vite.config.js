import { defineConfig, loadEnv } from "vite";

// No React plugin: esbuild compiles JSX with React's automatic runtime.
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), "VITE_");
  const linkbff = env.VITE_LINKBFF_URL || "http://127.0.0.1:8080";
  // linkbff's dev sign-in (/_dev/token) is not a CORS route, so the dev
  // server forwards it; the /v1 API is called cross-origin, with CORS.
  const proxy = { "/_dev": { target: linkbff, changeOrigin: true } };
  return {
    esbuild: { jsx: "automatic" },
    server: { port: 5173, strictPort: true, proxy },
    preview: { port: 5173, strictPort: true, proxy },
  };
});

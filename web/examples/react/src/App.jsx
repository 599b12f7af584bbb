import { useState } from "react";
import { useVitalLink } from "@tryvital/vital-link";
import { linkbffClient } from "./api/linkbff";

// Where linkbff runs; its CORS_ALLOWED_ORIGINS must list this page's origin.
const LINKBFF_URL = (import.meta.env.VITE_LINKBFF_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
// The typed client generated from linkbff's OpenAPI document.
const linkbff = linkbffClient(LINKBFF_URL);
// Dev mode only: the Vite dev server forwards /_dev to linkbff.
const devServer = linkbffClient("");

// Junction's callbacks carry a metadata object; its error type is what the
// user should hear about.
function errorTypeOf(metadata) {
  return metadata?.error_type ?? metadata?.errorType ?? "unknown";
}

export function App() {
  const [token, setToken] = useState("");
  const [user, setUser] = useState("alice");
  const [provider, setProvider] = useState("oura");
  const [linkWebURL, setLinkWebURL] = useState("");
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState({ kind: "idle", text: "Sign in, then connect a provider." });

  const { open, ready, error } = useVitalLink({
    env: import.meta.env.VITE_JUNCTION_ENV || "sandbox",
    region: import.meta.env.VITE_JUNCTION_REGION || "us",
    onSuccess: () => setStatus({ kind: "success", text: "Connected. linkbff's GET /v1/connections lists it once Junction's webhook arrives." }),
    onExit: () => setStatus({ kind: "idle", text: "Link was closed; nothing was connected." }),
    onError: (metadata) => setStatus({ kind: "error", text: `Link reported an error: ${errorTypeOf(metadata)}.` }),
  });

  async function devSignIn() {
    setBusy(true);
    try {
      const data = await devServer.devToken(user);
      setToken(data.token);
      setStatus({ kind: "idle", text: `Signed in as ${data.user ?? user}.` });
    } catch (err) {
      setStatus({ kind: "error", text: `Dev sign-in failed: ${err.message}` });
    } finally {
      setBusy(false);
    }
  }

  async function connect() {
    setBusy(true);
    try {
      const data = await linkbff.linkToken(token.trim(), provider ? { provider } : {});
      setLinkWebURL(data.link_web_url);
      open(data.link_token); // the token string, not the whole response
      setStatus({ kind: "idle", text: "Junction Link is open." });
    } catch (err) {
      const hint = err instanceof TypeError ? ` Is linkbff running at ${LINKBFF_URL} with CORS_ALLOWED_ORIGINS=${window.location.origin}?` : "";
      setStatus({ kind: "error", text: `Could not start Link: ${err.message}.${hint}` });
    } finally {
      setBusy(false);
    }
  }

  return (
    <main>
      <h1>Connect a wearable</h1>
      <p className="muted">
        React + <code>useVitalLink</code> against linkbff at <code>{LINKBFF_URL}</code>.
      </p>

      <section aria-labelledby="who">
        <h2 id="who">1. Your user's JWT</h2>
        <label htmlFor="token">Bearer token</label>
        <textarea id="token" value={token} onChange={(e) => setToken(e.target.value)} placeholder="Paste a JWT, or use the dev sign-in" spellCheck={false} />
        <div className="row">
          <label htmlFor="user" className="muted">Dev user</label>
          <input id="user" value={user} onChange={(e) => setUser(e.target.value)} />
          <button type="button" id="dev-sign-in" onClick={devSignIn} disabled={busy || !user}>
            Dev sign-in
          </button>
        </div>
      </section>

      <section aria-labelledby="link">
        <h2 id="link">2. Connect</h2>
        <label htmlFor="provider">Provider slug (empty: let the user choose in Link)</label>
        <input id="provider" value={provider} onChange={(e) => setProvider(e.target.value.trim())} />
        <div className="row">
          <button type="button" id="connect" className="primary" onClick={connect} disabled={busy || !ready || !token.trim()}>
            {ready ? "Connect" : "Loading Link…"}
          </button>
        </div>
        {error && <p className="status" data-kind="error">Could not load Junction Link's script.</p>}
        {linkWebURL && (
          <p className="muted">
            Or open Link in a tab: <a id="link-web-url" href={linkWebURL} target="_blank" rel="noreferrer">link_web_url</a>
          </p>
        )}
      </section>

      <p id="status" className="status" data-kind={status.kind} role="status" aria-live="polite">
        {status.text}
      </p>
    </main>
  );
}

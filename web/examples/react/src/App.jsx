import { useCallback, useEffect, useRef, useState } from "react";
import { useVitalLink } from "@tryvital/vital-link";
import { linkbffClient } from "./api/linkbff";

// Where linkbff runs; its CORS_ALLOWED_ORIGINS must list this page's origin.
const LINKBFF_URL = (import.meta.env.VITE_LINKBFF_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
const LINKBFF_ORIGIN = new URL(LINKBFF_URL).origin;

// The typed client generated from linkbff's OpenAPI document.
const linkbff = linkbffClient(LINKBFF_URL);
// Dev mode only: the Vite dev server forwards /_dev to linkbff.
const devServer = linkbffClient("");

// While the event stream is down, Junction's webhook may reach linkbff a
// moment after Link reports success: poll the connection list briefly.
// While it is live, the list follows its events and nothing polls.
const REFRESH_ATTEMPTS = 8;
const REFRESH_INTERVAL_MS = 750;

// The widget's callbacks carry a metadata object (its shape is not
// published by Junction; linkbff's emulator passes {state, provider,
// error_type}). Treat it as a hint: the connection list is the truth.
function errorTypeOf(metadata) {
  return metadata?.error_type ?? metadata?.errorType ?? "unknown";
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function App() {
  const [token, setToken] = useState("");
  const [user, setUser] = useState("alice");
  const [provider, setProvider] = useState("oura");
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState({ kind: "idle", text: "Sign in, then connect a provider." });
  const [connections, setConnections] = useState(null);
  const [live, setLive] = useState(false);

  // useVitalLink keeps the callbacks it was first given, so they read the
  // current token and stream state through refs.
  const tokenRef = useRef("");
  tokenRef.current = token.trim();
  const liveRef = useRef(false);

  const loadConnections = useCallback(async (until) => {
    for (let attempt = 1; attempt <= REFRESH_ATTEMPTS; attempt++) {
      const data = await linkbff.connections(tokenRef.current);
      setConnections(data.connections);
      if (!until || until(data.connections) || liveRef.current) return;
      await delay(REFRESH_INTERVAL_MS);
    }
  }, []);

  const refresh = useCallback((connectedProvider) => {
    const until = connectedProvider ? (list) => list.some((c) => c.provider === connectedProvider && c.status === "connected") : null;
    loadConnections(until).catch((err) => setStatus({ kind: "error", text: `Could not load connections: ${err.message}` }));
  }, [loadConnections]);

  // Link's callbacks say what the user saw; with the stream live, the list
  // changes when linkbff hears from Junction, so there is nothing to load.
  const refreshUnlessLive = (connectedProvider) => {
    if (!liveRef.current) refresh(connectedProvider);
  };
  const onSuccess = (metadata) => {
    setStatus({ kind: "success", text: `Connected ${metadata?.provider ?? "the provider"}.` });
    refreshUnlessLive(metadata?.provider);
  };
  const onExit = () => {
    setStatus({ kind: "idle", text: "Link was closed; nothing was connected." });
    refreshUnlessLive();
  };
  const onError = (metadata) => {
    setStatus({ kind: "error", text: `Link reported an error: ${errorTypeOf(metadata)}.` });
    refreshUnlessLive();
  };

  // The signed-in user's events: the list follows them, and is read once
  // each time the stream (re)opens, so nothing before it is missed.
  useEffect(() => {
    const jwt = token.trim();
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(jwt)) return undefined; // not (yet) a whole JWT
    const stop = new AbortController();
    let first = true;
    const onEvent = (event) => {
      setConnections((list) => {
        const others = (list ?? []).filter((c) => c.provider !== event.provider);
        if (event.type === "connection.disconnected") return others;
        if (event.type !== "connection.created" && event.type !== "connection.error") return list;
        const before = (list ?? []).find((c) => c.provider === event.provider);
        const status = event.type === "connection.created" ? "connected" : "error";
        return [...others, { provider: event.provider, name: before?.name ?? "", status, error_type: event.error_type, via: "stream" }]
          .sort((a, b) => (a.provider < b.provider ? -1 : 1));
      });
    };
    const onLive = (up) => {
      // Read the list when the stream opens, and once when it is lost (the
      // page then polls after Link again).
      const changed = up !== liveRef.current;
      liveRef.current = up;
      setLive(up);
      if (up || changed || first) refresh();
      first = false;
    };
    linkbff.followEvents(jwt, { onEvent, onLive }, stop.signal)
      .catch((err) => setStatus({ kind: "error", text: `Live updates stopped: ${err.message}. Sign in again.` }));
    return () => {
      stop.abort();
      liveRef.current = false;
      setLive(false);
    };
  }, [token, refresh]);

  const { open, ready, error } = useVitalLink({
    env: import.meta.env.VITE_JUNCTION_ENV || "sandbox",
    region: import.meta.env.VITE_JUNCTION_REGION || "us",
    onSuccess,
    onExit,
    onError,
  });
  // Without the widget (its script did not load, or is still loading),
  // Connect opens link_web_url in a new window instead.
  const widget = ready && !error;

  // In that window linkbff's callback page posts the outcome back here.
  useEffect(() => {
    function onMessage(event) {
      const data = event.data;
      if (event.origin !== LINKBFF_ORIGIN || data?.type !== "linkbff:link") return;
      if (data.status === "connected") onSuccess({ state: "success", provider: data.provider });
      else if (data.status === "cancelled") onExit({ state: "exit" });
      else onError({ state: "error", error_type: data.error_type });
    }
    window.addEventListener("message", onMessage);
    return () => window.removeEventListener("message", onMessage);
  });

  async function devSignIn() {
    setBusy(true);
    try {
      const data = await devServer.devToken(user);
      setToken(data.token); // the event stream opens, then the list loads
      tokenRef.current = data.token;
      setStatus({ kind: "idle", text: `Signed in as ${data.user ?? user}.` });
    } catch (err) {
      setStatus({ kind: "error", text: `Dev sign-in failed: ${err.message}` });
    } finally {
      setBusy(false);
    }
  }

  async function connect() {
    // Opened inside the click, so popup blockers allow it.
    const tab = widget ? null : window.open("about:blank", "junction-link");
    setBusy(true);
    try {
      const data = await linkbff.linkToken(tokenRef.current, provider ? { provider } : {});
      if (widget) {
        open(data.link_token); // the token string, not the whole response
        setStatus({ kind: "idle", text: "Junction Link is open." });
      } else if (tab) {
        tab.location.href = data.link_web_url;
        setStatus({ kind: "idle", text: "Junction Link is open in another window." });
      } else {
        window.location.assign(data.link_web_url); // popups blocked: go there
      }
    } catch (err) {
      tab?.close();
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
          <button type="button" id="connect" className="primary" data-path={widget ? "widget" : "window"} onClick={connect} disabled={busy || !token.trim()}>
            Connect
          </button>
        </div>
        <p id="link-path" className="muted">
          {widget
            ? "Connect opens the Link widget on this page."
            : error
              ? "The Link widget's script could not load, so Connect opens Link (link_web_url) in a new window."
              : "The Link widget is still loading; until then Connect opens Link (link_web_url) in a new window."}
        </p>
      </section>

      <p id="status" className="status" data-kind={status.kind} role="status" aria-live="polite">
        {status.text}
      </p>

      <section aria-labelledby="connections-title">
        <h2 id="connections-title">
          3. Connections{" "}
          <span id="live" className="muted" data-state={live ? "on" : "off"}>
            {live ? "· live" : ""}
          </span>
        </h2>
        {connections === null ? (
          <p className="muted">Sign in to see them.</p>
        ) : connections.length === 0 ? (
          <p className="muted" id="no-connections">Nothing connected yet.</p>
        ) : (
          <ul id="connections">
            {connections.map((c) => (
              <li key={c.provider} data-provider={c.provider} data-status={c.status} data-via={c.via ?? "list"}>
                <strong>{c.name || c.provider}</strong> <span className="muted">{c.status}{c.error_type ? ` (${c.error_type})` : ""}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}

import { renderPage } from "./layout.ts";

/**
 * The operator board: server-rendered structure, filled and kept live by /assets/board.js over
 * the stream. The token never travels in a URL: it comes from the form or the #token= fragment.
 */
export function boardPage(): string {
  return renderPage({
    title: "ChargeBridge operator board",
    scripts: ["/assets/board.js"],
    body: `<header class="bar">
  <h1>ChargeBridge operator board</h1>
  <p id="live-state" class="live" role="status" aria-live="polite">Not signed in</p>
  <button type="button" id="sign-out" hidden>Sign out</button>
</header>
<main>
  <section id="login" aria-labelledby="login-title">
    <h2 id="login-title">Sign in</h2>
    <form id="login-form">
      <label for="token">Operator token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required>
      <button type="submit">Sign in</button>
      <p id="login-error" class="error" role="alert"></p>
    </form>
  </section>
  <div id="board" hidden>
    <section aria-labelledby="cp-title">
      <h2 id="cp-title">Charge points <span id="cp-count" class="count"></span></h2>
      <div class="scroll"><table>
        <thead><tr><th scope="col">Charge point</th><th scope="col">Status</th><th scope="col">Link</th><th scope="col">Last seen</th><th scope="col">Connector / transport</th><th scope="col">Fault or conflict</th><th scope="col">Actions</th></tr></thead>
        <tbody id="cp-rows"></tbody>
      </table></div>
      <form id="provision-form" class="inline">
        <label for="new-cp">New charge point id</label>
        <input id="new-cp" name="cpId" required pattern="[A-Za-z0-9_\\-]{1,64}" autocomplete="off">
        <button type="submit">Provision</button>
      </form>
      <div id="secret-box" class="notice" role="alert" hidden></div>
      <p id="action-error" class="error" role="alert"></p>
    </section>
    <section aria-labelledby="res-title">
      <h2 id="res-title">Reservations</h2>
      <div class="scroll"><table>
        <thead><tr><th scope="col">Reservation</th><th scope="col">Charge point</th><th scope="col">Status</th><th scope="col">Expires / ended</th><th scope="col">Why it ended</th></tr></thead>
        <tbody id="res-rows"><tr><td colspan="5">None yet</td></tr></tbody>
      </table></div>
    </section>
    <section aria-labelledby="ses-title">
      <h2 id="ses-title">Sessions</h2>
      <div class="scroll"><table>
        <thead><tr><th scope="col">Session</th><th scope="col">Charge point</th><th scope="col">Energy (kWh)</th><th scope="col">Power (kW)</th><th scope="col">Duration</th><th scope="col">State</th></tr></thead>
        <tbody id="ses-rows"><tr><td colspan="6">None yet</td></tr></tbody>
      </table></div>
    </section>
    <section aria-labelledby="gw-title">
      <h2 id="gw-title">Gateways</h2>
      <div class="scroll"><table>
        <thead><tr><th scope="col">Gateway</th><th scope="col">Queue depth</th><th scope="col">Oldest queued</th><th scope="col">Kafka link</th><th scope="col">Chargers</th><th scope="col">Version</th><th scope="col">Last report</th><th scope="col">Warnings</th></tr></thead>
        <tbody id="gw-rows"><tr><td colspan="8">No health reports yet</td></tr></tbody>
      </table></div>
    </section>
  </div>
</main>
<footer><a href="/app">Driver app</a> · <a href="/docs">API reference</a></footer>`,
  });
}

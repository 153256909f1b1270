// REST calls the dashboard makes. One place, so every call has the same error handling:
// the server answers errors as {"error": reason, "detail": text}.

export class ApiError extends Error {
  constructor(status, reason, detail) {
    super(detail || reason || `HTTP ${status}`);
    this.status = status;
    this.reason = reason;
  }
}

// The session cookie is HttpOnly; this one holds the CSRF value the server wants back in a
// header with every change, which a page of another site can neither read nor send.
function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("twinsync_csrf="));
  return found ? decodeURIComponent(found.slice("twinsync_csrf=".length)) : "";
}

async function request(method, path, body) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") options.headers["x-csrf-token"] = csrfToken();
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) {
    // The session ended (expired, revoked, signed out elsewhere): sign in again.
    location.assign("/login");
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new ApiError(response.status, data?.error, data?.detail);
  }
  return data;
}

export const getProject = () => request("GET", "/api/project");
export const getElement = (id) => request("GET", `/api/elements/${encodeURIComponent(id)}`);

/** The current BIM model, or null when the twin has none (the API answers 404). */
export async function getModel() {
  try {
    return await request("GET", "/api/model");
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/** A status change from the dashboard is a field update: the server records it as the
 *  signed-in person's (source "field"), whatever a page would claim. */
export const setStatus = (id, status) =>
  request("PATCH", `/api/elements/${encodeURIComponent(id)}`, { status });

export const signOut = () => request("DELETE", "/api/session");

/**
 * Seconds the server's clock is ahead of this page's (behind: negative), by NTP's formula
 * over one `GET /api/time` exchange: a site tablet's clock may be minutes or hours off.
 */
export async function serverOffset() {
  const t0 = Date.now() / 1000;
  const answer = await request("GET", `/api/time?t0=${t0}`);
  const t3 = Date.now() / 1000;
  return (answer.t1 - t0 + (answer.t2 - t3)) / 2;
}

/** The newest `limit` events of a kind, newest first. */
export const getNewestEvents = (kind, limit) =>
  request("GET", `/api/events?kind=${encodeURIComponent(kind)}&newest_first=true&limit=${limit}`).then((r) => r.events);

/** The newest changes of an element, newest first (the audit log is for admins). */
export const getChanges = (id, limit) =>
  request("GET", `/api/audit?element_id=${encodeURIComponent(id)}&newest_first=true&limit=${limit}`);

/**
 * A sensor's history between `start` and `end` (epoch seconds). With `every`, the server
 * downsamples to buckets (min/max/mean) so a week never ships every raw reading.
 */
export function getReadings(sensorId, start, end, every) {
  const query = new URLSearchParams({ start: String(start), end: String(end) });
  if (every) query.set("every", String(every));
  return request("GET", `/api/sensors/${encodeURIComponent(sensorId)}/readings?${query}`);
}

/** The twin's schedule as of a date (default now), or null when it has none (404). */
export async function getSchedule(asOf) {
  try {
    return await request("GET", `/api/schedule${asOf ? `?as_of=${encodeURIComponent(asOf)}` : ""}`);
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/** Every activity's linked elements, and where each element stands, as of a date. */
export const getScheduleElements = (asOf) =>
  request("GET", `/api/schedule/elements${asOf ? `?as_of=${encodeURIComponent(asOf)}` : ""}`);

/** One activity as of now, with its elements and progress reports. */
export const getActivity = (code) => request("GET", `/api/schedule/activities/${encodeURIComponent(code)}`);

/** Who is signed in: {name, role, kind, …}. */
export const getSession = () => request("GET", "/api/session");

/** Pages of spans the panel reads before it stops (it lists the latest marks). */
const EXPECTED_PAGES = 10;

/**
 * The spans marked expected for the sensors bound to an element, by sensor and in the
 * order marked: standing ones (`withdrawn` "exclude"), withdrawn ones with who withdrew
 * them, when and why ("only"), or both ("include"). Reads the server's pages in turn
 * (at most EXPECTED_PAGES of 1,000); answers {expected, more}.
 */
export async function getExpected(elementId, withdrawn = "exclude") {
  const expected = [];
  let after = null;
  for (let k = 0; k < EXPECTED_PAGES; k++) {
    const query = new URLSearchParams({ element_id: elementId, withdrawn, limit: "1000" });
    if (after) query.set("after", after);
    const page = await request("GET", `/api/anomalies/expected?${query}`);
    expected.push(...page.expected);
    after = page.next;
    if (!after) break;
  }
  return { expected, more: Boolean(after) };
}

/**
 * Mark anomalies as expected: of `sensor_id` or of every sensor of `element_id`, from
 * `start` to `end` (epoch seconds), for `reason`. Answers {expected, cleared}.
 */
export const markExpected = (body) => request("POST", "/api/anomalies/expected", body);

/**
 * Withdraw a mark made in error (every span it made), saying why. Answers {id, sensors,
 * start, end, withdrawn_by, withdrawn_at, reason}; 404 for no such mark, 409 for one
 * withdrawn already.
 */
export const withdrawExpected = (markId, reason) =>
  request("DELETE", `/api/anomalies/expected/${encodeURIComponent(markId)}`, { reason });

/** The concrete mixes declared for the twin. */
export const getMixes = () => request("GET", "/api/mixes");

/** An element's concrete maturity and strength, or null when it is of no mix (404). */
export async function getMaturity(id) {
  try {
    return await request("GET", `/api/elements/${encodeURIComponent(id)}/maturity`);
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/** Each sensor's level/trend model of an element: its state, level, noise, divergence. */
export const getElementTwin = (id) => request("GET", `/api/elements/${encodeURIComponent(id)}/twin`);

/** An element as a thermal zone (docs/PHYSICS.md): modelled or why not, its state, and
 * the model's temperature `hours` after its last reading with the inputs held. */
export const getZone = (id, hours) =>
  request("GET", `/api/elements/${encodeURIComponent(id)}/zone?hours=${encodeURIComponent(hours)}`);

/**
 * A property's readings between `start` and `end` (epoch seconds) beside each sensor's
 * one-step prediction and 90 % interval, in buckets of `every` seconds if given, with the
 * spans its model diverged.
 */
export function getTwinTrack(elementId, property, start, end, every) {
  const query = new URLSearchParams({ property, start: String(start), end: String(end) });
  if (every) query.set("every", String(every));
  return request("GET", `/api/elements/${encodeURIComponent(elementId)}/twin/track?${query}`);
}

/** Every element's twin state (its sensors' worst), as columns. */
export const getTwinStates = () => request("GET", "/api/twin/states");

/** The live tracker's parameters, the running shadow (null if none) and how they compare. */
export const getShadow = () => request("GET", "/api/twin/shadow");

/** Make the running shadow live; answers the comparison at promotion (409: none runs). */
export const promoteShadow = () => request("POST", "/api/twin/shadow/promote");

/** Stop the running shadow, the live model unchanged (409: none runs). */
export const stopShadow = () => request("DELETE", "/api/twin/shadow");

// Calls to Docbridge's JSON API (/api/v1) and app registry (/app/*) from the pages.
// Every error becomes an ApiError whose `message` is a sentence for people, not JSON.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const FRIENDLY = {
  UNAUTHENTICATED: "You are not logged in any more. Reload the page to log in again.",
  PAYLOAD_TOO_LARGE: "The file is larger than this server accepts.",
  TOO_EARLY: "The file is still being written. Try again in a moment.",
  LOCKED: "The file is being edited in another app. Try again when it is closed.",
  SERVER_ERROR: "The server ran into a problem. Try again later.",
  NOT_IMPLEMENTED: "The server cannot do this.",
};

function sentence(text) {
  const clean = String(text || "").trim();
  if (!clean) return "";
  const first = clean.charAt(0).toUpperCase() + clean.slice(1);
  return /[.!?]$/.test(first) ? first : first + ".";
}

/** A message for people from an error body {code, message} and the HTTP status. */
export function describeError(status, body) {
  const code = body && typeof body.code === "string" ? body.code : "";
  const message = body && typeof body.message === "string" ? body.message : "";
  if (code === "RESOURCE_NOT_FOUND" && /no app providers found/.test(message)) {
    return "No editor is configured for this kind of file. You can still download it; an administrator can set up ONLYOFFICE or a WOPI app to open it here.";
  }
  if (code === "SERVER_ERROR" && message) return sentence(message);
  if (code === "UNAUTHENTICATED" && message && !/authentication required/.test(message)) return sentence(message);
  if (FRIENDLY[code] && !message) return FRIENDLY[code];
  if (code === "UNAUTHENTICATED") return FRIENDLY.UNAUTHENTICATED;
  if (code === "PERMISSION_DENIED" && /CSRF/.test(message)) return "Your session expired. Reload the page and try again.";
  if (message) return sentence(message);
  if (status === 0) return "The server cannot be reached. Check your connection and try again.";
  return FRIENDLY[code] || `The request failed (HTTP ${status}).`;
}

function parseBody(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * A client for one page. `csrfToken` is sent with state-changing calls made with the
 * session cookie; `publicToken` (and `password`) authenticate a public-link visitor.
 */
export class Api {
  constructor({ csrfToken = "", publicToken = "", password = "" } = {}) {
    this.csrfToken = csrfToken;
    this.publicToken = publicToken;
    this.password = password;
  }

  headers(method, extra = {}) {
    const headers = { "X-Requested-With": "XMLHttpRequest", Accept: "application/json", ...extra };
    if (this.publicToken) {
      headers["Public-Token"] = this.publicToken;
      if (this.password) {
        headers.Authorization = "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode("public:" + this.password)));
      }
    } else if (this.csrfToken && !["GET", "HEAD"].includes(method)) {
      headers["X-CSRF-Token"] = this.csrfToken;
    }
    return headers;
  }

  async request(method, url, { json, form } = {}) {
    const init = { method, credentials: "same-origin", headers: this.headers(method) };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = new URLSearchParams(form);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(0, "NETWORK", describeError(0, null));
    }
    const text = await response.text();
    const body = parseBody(text);
    if (!response.ok) throw new ApiError(response.status, (body && body.code) || "", describeError(response.status, body));
    return body;
  }

  get(url) {
    return this.request("GET", url);
  }

  /** Fetch a file's bytes (for pages that must send headers, such as the public page). */
  async blob(url) {
    const response = await fetch(url, { headers: this.headers("GET", { Accept: "*/*" }), credentials: "same-origin" });
    if (!response.ok) {
      const body = parseBody(await response.text());
      throw new ApiError(response.status, (body && body.code) || "", describeError(response.status, body));
    }
    return response.blob();
  }

  /** PUT raw bytes with upload progress: `onProgress(loaded, total)`; resolves to the JSON answer. */
  upload(url, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      for (const [name, value] of Object.entries(this.headers("PUT"))) xhr.setRequestHeader(name, value);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      });
      xhr.addEventListener("load", () => {
        const body = parseBody(xhr.responseText);
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(file.size, file.size);
          resolve(body);
        } else {
          reject(new ApiError(xhr.status, (body && body.code) || "", describeError(xhr.status, body)));
        }
      });
      xhr.addEventListener("error", () => reject(new ApiError(0, "NETWORK", describeError(0, null))));
      xhr.addEventListener("abort", () => reject(new ApiError(0, "ABORTED", "The upload was cancelled.")));
      xhr.send(file);
    });
  }

  // --- the calls the pages make ---
  me() { return this.get("/api/v1/me"); }
  container(id) { return this.get(`/api/v1/containers/${encodeURIComponent(id)}`); }
  file(id) { return this.get(`/api/v1/files/${encodeURIComponent(id)}`); }
  createFolder(parentId, name) { return this.request("POST", `/api/v1/containers/${encodeURIComponent(parentId)}/folders`, { json: { name } }); }
  uploadUrl(parentId, name) { return `/api/v1/containers/${encodeURIComponent(parentId)}/files/${encodeURIComponent(name)}`; }
  contentUrl(id) { return `/api/v1/files/${encodeURIComponent(id)}/content`; }
  versionUrl(id, number) { return `/api/v1/files/${encodeURIComponent(id)}/versions/${number}/content`; }
  rename(id, name) { return this.request("PATCH", `/api/v1/files/${encodeURIComponent(id)}`, { json: { name } }); }
  remove(id) { return this.request("DELETE", `/api/v1/files/${encodeURIComponent(id)}`); }
  versions(id) { return this.get(`/api/v1/files/${encodeURIComponent(id)}/versions`); }
  restore(id, number) { return this.request("POST", `/api/v1/files/${encodeURIComponent(id)}/versions/${number}/restore`); }
  links(id) { return this.get(`/api/v1/files/${encodeURIComponent(id)}/links`); }
  createLink(id, body) { return this.request("POST", `/api/v1/files/${encodeURIComponent(id)}/links`, { json: body }); }
  revokeLink(linkId) { return this.request("DELETE", `/api/v1/links/${encodeURIComponent(linkId)}`); }
  sharedWithMe() { return this.get("/api/v1/shared-with-me"); }
  findPeople(text) { return this.get(`/api/v1/users?q=${encodeURIComponent(text)}`); }
  shares(node) { return this.get(`${this.nodeUrl(node)}/shares`); }
  share(node, body) { return this.request("POST", `${this.nodeUrl(node)}/shares`, { json: body }); }
  changeShare(node, shareId, body) { return this.request("PATCH", `${this.nodeUrl(node)}/shares/${encodeURIComponent(shareId)}`, { json: body }); }
  unshare(node, shareId) { return this.request("DELETE", `${this.nodeUrl(node)}/shares/${encodeURIComponent(shareId)}`); }
  nodeUrl(node) { return `/api/v1/${node.type === "folder" ? "containers" : "files"}/${encodeURIComponent(node.id)}`; }
  appList() { return this.get("/app/list"); }
  appNew(parentId, filename) { return this.request("POST", "/app/new", { form: { parent_container_id: parentId, filename } }); }
  appOpen(fileId, appName = "", viewMode = "") {
    const form = { file_id: fileId };
    if (appName) form.app_name = appName;
    if (viewMode) form.view_mode = viewMode;
    return this.request("POST", "/app/open", { form });
  }
}

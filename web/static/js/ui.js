// Small helpers shared by the file browser and the public-link page: building elements,
// formatting sizes and times, the notice line, dialogs and the full-window editor.

/** Build an element: el("button", {type: "button", onclick: f}, "Text"). Text is never parsed as HTML. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatSize(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(iso) {
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? "" : TIME_FORMAT.format(when);
}

let noticeTimer = 0;

/** Show a message in the page's notice line; kind is "info", "success" or "error". */
export function notify(text, kind = "info", action = null) {
  const notice = document.getElementById("notice");
  if (!notice) return;
  clearTimeout(noticeTimer);
  notice.replaceChildren(el("span", {}, text));
  if (action) notice.append(" ", action);
  notice.append(el("button", { type: "button", className: "link-button", "aria-label": "Dismiss", onclick: () => (notice.hidden = true) }, "✕"));
  notice.className = `notice ${kind}`;
  notice.setAttribute("role", kind === "error" ? "alert" : "status");
  notice.hidden = false;
  if (kind !== "error") noticeTimer = setTimeout(() => (notice.hidden = true), 8000);
}

/** Wire the [data-close] buttons of every dialog on the page. */
export function wireDialogs() {
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close("cancel"));
  }
}

export function showError(target, error) {
  target.textContent = error.message || String(error);
  target.hidden = false;
}

/** Ask for a line of text; resolves to the text, or null when cancelled. `check` may throw to keep the dialog open. */
export function promptText({ title, label, value = "", okLabel = "OK", select = null, submit }) {
  const dialog = document.getElementById("prompt-dialog");
  const input = document.getElementById("prompt-input");
  const error = document.getElementById("prompt-error");
  const ok = document.getElementById("prompt-ok");
  document.getElementById("prompt-title").textContent = title;
  document.getElementById("prompt-label").textContent = label;
  ok.textContent = okLabel;
  input.value = value;
  error.hidden = true;
  return new Promise((resolve) => {
    const form = dialog.querySelector("form");
    const onSubmit = async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      ok.disabled = true;
      try {
        const result = await submit(text);
        cleanup();
        dialog.close("ok");
        resolve(result);
      } catch (problem) {
        showError(error, problem);
      } finally {
        ok.disabled = false;
      }
    };
    const onClose = () => {
      cleanup();
      resolve(null);
    };
    const cleanup = () => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
    };
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    input.focus();
    if (select) input.setSelectionRange(select[0], select[1]);
    else input.select();
  });
}

/** Ask to confirm; resolves to true or false. */
export function confirmAction({ title, text, okLabel }) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("confirm-ok").focus();
  });
}

/**
 * Upload `files`, each with its own progress bar in the page's #uploads list.
 * `urlFor(file)` names where each one is PUT; resolves when all have finished.
 */
export function uploadWithProgress(api, files, urlFor) {
  const list = document.getElementById("uploads");
  const jobs = [...files].map((file) => {
    const progress = el("progress", { max: 100, value: 0, "aria-label": `Uploading ${file.name}` });
    const status = el("span", { className: "status" }, "Waiting…");
    const item = el("li", { className: "upload", dataset: { name: file.name } }, el("span", { className: "upload-name" }, file.name), progress, status);
    list.append(item);
    return { file, item, progress, status };
  });
  return Promise.all(
    jobs.map(async ({ file, item, progress, status }) => {
      status.textContent = "0 %";
      try {
        await api.upload(urlFor(file), file, (loaded, total) => {
          const percent = total ? Math.round((loaded / total) * 100) : 100;
          progress.value = percent;
          status.textContent = `${percent} %`;
        });
        progress.value = 100;
        status.textContent = "Done";
        item.classList.add("done");
        setTimeout(() => item.remove(), 10000);
      } catch (error) {
        status.textContent = error.message;
        item.classList.add("failed");
        item.append(el("button", { type: "button", className: "link-button", onclick: () => item.remove() }, "Dismiss"));
      }
    }),
  );
}

/** Save a Blob under `name` through a temporary link. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/**
 * The editor that fills the window. `show(launch, title)` takes an /app/open answer:
 * a POST launch's form_parameters are posted into the iframe (or a new tab), a GET
 * launch is loaded into it (fetched with its headers when it has any).
 */
export class Editor {
  constructor({ onClose } = {}) {
    this.section = document.getElementById("editor");
    this.frame = document.getElementById("editor-frame");
    this.title = document.getElementById("editor-title");
    this.onClose = onClose;
    this.launch = null;
    document.getElementById("editor-close").addEventListener("click", () => this.close());
    document.getElementById("editor-newtab").addEventListener("click", () => {
      if (this.launch) this.submit(this.launch, "_blank");
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.section.hidden && document.activeElement !== this.frame) this.close();
    });
  }

  get isOpen() {
    return !this.section.hidden;
  }

  async submit(launch, target) {
    if ((launch.method || "POST").toUpperCase() === "GET") {
      const headers = launch.headers || {};
      if (Object.keys(headers).length && target !== "_blank") {
        const response = await fetch(launch.app_url, { headers, credentials: "omit" });
        this.frame.src = URL.createObjectURL(await response.blob());
      } else if (target === "_blank") {
        window.open(launch.app_url, "_blank", "noopener");
      } else {
        this.frame.src = launch.app_url;
      }
      return;
    }
    const form = el("form", { method: "post", action: launch.app_url, target, hidden: true });
    for (const [name, value] of Object.entries(launch.form_parameters || {})) {
      form.append(el("input", { type: "hidden", name, value }));
    }
    document.body.append(form);
    form.submit();
    form.remove();
  }

  async show(launch, title) {
    this.launch = launch;
    this.title.textContent = title;
    this.section.hidden = false;
    document.body.classList.add("editing");
    await this.submit(launch, this.frame.name);
    this.frame.focus();
  }

  close() {
    if (this.section.hidden) return;
    this.section.hidden = true;
    document.body.classList.remove("editing");
    this.frame.src = "about:blank";
    this.launch = null;
    if (this.onClose) this.onClose();
  }
}

export function pageData() {
  return JSON.parse(document.getElementById("page-data").textContent);
}

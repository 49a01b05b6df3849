// The public-link page: the visitor holds a link token (and maybe its password) and
// views or edits the shared file as the link's role allows. No session is involved:
// every call carries the token in `Public-Token`.

import { Api } from "./api.js";
import { Editor, el, formatSize, formatTime, notify, pageData, saveBlob, showError, uploadWithProgress } from "./ui.js";

const data = pageData();
const api = new Api({ publicToken: data.token });
const editor = new Editor({ onClose: () => show() });

const ROLE_TEXT = {
  viewer: "You can view and download this file.",
  editor: "You can view, edit and download this file.",
  uploader: "You can add files here.",
};
// Secure view (a no-download link, or an admin's rule): the file opens, its bytes stay here.
const SECURE_ROLE_TEXT = {
  viewer: "You can view this file. Downloading and printing are turned off.",
  editor: "You can view and edit this file. Downloading and printing are turned off.",
};

async function download(node) {
  try {
    saveBlob(await api.blob(api.contentUrl(node.id)), node.name);
  } catch (error) {
    notify(error.message, "error");
  }
}

// The session's own API client: the guest's name is kept in the session, not the link.
const sessionApi = new Api({ csrfToken: data.csrf_token });

/** Editors see each other: a visitor about to edit gives a name first (kept for this link). */
function askGuestName() {
  const form = document.getElementById("guest-form");
  const input = document.getElementById("guest-name");
  const error = document.getElementById("guest-error");
  const shared = document.getElementById("shared");
  form.hidden = false;
  shared.hidden = true;
  input.focus();
  return new Promise((resolve) => {
    const done = (name) => {
      form.hidden = true;
      shared.hidden = false;
      form.removeEventListener("submit", onSubmit);
      resolve(name);
    };
    const onSubmit = async (event) => {
      event.preventDefault();
      error.hidden = true;
      try {
        const answer = await sessionApi.request("POST", `/s/${encodeURIComponent(data.token)}/name`, { json: { name: input.value } });
        data.guest_name = answer.name;
        done(answer.name);
      } catch (problem) {
        showError(error, problem);
      }
    };
    form.addEventListener("submit", onSubmit);
    document.getElementById("guest-cancel").onclick = () => done(null);
  });
}

async function open(node) {
  try {
    if (data.role === "editor" && !data.guest_name && !(await askGuestName())) return;
    const launch = await api.appOpen(node.id, "", data.role === "editor" ? "write" : "read");
    // Another app holds the file: it opens read-only, and the answer says who edits it.
    await editor.show(launch, launch.message ? `${node.name} (read-only: ${launch.message})` : node.name);
  } catch (error) {
    notify(error.message, "error");
  }
}

function fileRow(node, canDownload) {
  const isFile = node.type === "file";
  return el(
    "tr",
    { dataset: { name: node.name } },
    el("td", {}, isFile ? el("button", { type: "button", className: "link-button name", onclick: () => open(node) }, node.name) : node.name),
    el("td", { className: "col-modified" }, formatTime(node.modified)),
    el("td", { className: "col-size" }, isFile ? formatSize(node.size) : "—"),
    el("td", { className: "actions" }, isFile && canDownload ? el("button", { type: "button", className: "small", onclick: () => download(node) }, "Download") : null),
  );
}

function showUploader() {
  // An uploader link may add files to its folder but not see what is there.
  document.title = "Add files · Docbridge";
  document.getElementById("shared-name").textContent = "Add files";
  document.getElementById("shared-role").textContent = ROLE_TEXT.uploader;
  document.getElementById("shared-actions").hidden = true;
  document.getElementById("shared-upload").hidden = false;
  const input = document.getElementById("upload-input");
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    if (files.length) uploadWithProgress(api, files, (file) => api.uploadUrl(data.node_id, file.name));
  });
  document.getElementById("shared").hidden = false;
  document.body.dataset.ready = "true";
}

async function show() {
  if (data.role === "uploader") return showUploader();
  const node = await api.file(data.node_id);
  document.title = `${node.name} · Docbridge`;
  document.getElementById("shared-name").textContent = node.name;
  const canDownload = node.can_download !== false;
  document.getElementById("shared-role").textContent = (canDownload ? ROLE_TEXT : SECURE_ROLE_TEXT)[data.role] || "";
  const openButton = document.getElementById("shared-open");
  const downloadButton = document.getElementById("shared-download");
  if (node.type === "folder") {
    openButton.hidden = true;
    downloadButton.hidden = true;
    const folder = await api.container(node.id);
    document.getElementById("shared-meta").textContent = `Folder · ${folder.children.length} ${folder.children.length === 1 ? "item" : "items"}`;
    document.getElementById("shared-rows").replaceChildren(...folder.children.map((child) => fileRow(child, canDownload)));
    document.getElementById("shared-files").hidden = false;
  } else {
    document.getElementById("shared-meta").textContent = `${formatSize(node.size)} · changed ${formatTime(node.modified)}`;
    openButton.textContent = data.role === "editor" ? "Open to edit" : "Open to view";
    openButton.onclick = () => open(node);
    downloadButton.hidden = !canDownload;
    downloadButton.onclick = () => download(node);
  }
  document.getElementById("shared").hidden = false;
  document.body.dataset.ready = "true";
}

function askPassword() {
  const form = document.getElementById("password-form");
  const input = document.getElementById("link-password");
  const error = document.getElementById("password-error");
  form.hidden = false;
  input.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    api.password = input.value;
    error.hidden = true;
    try {
      await show();
      form.hidden = true;
    } catch (problem) {
      showError(error, problem);
    }
  });
  document.body.dataset.ready = "true";
}

async function start() {
  if (data.has_password) {
    askPassword();
    return;
  }
  try {
    await show();
  } catch (error) {
    notify(error.message, "error");
  }
}

start();

// The file browser: folders, uploads with progress, the New menu, opening in apps,
// versions and sharing, and who is editing a file now. All data comes from /api/v1 and /app/*.

import { Api } from "./api.js";
import { Editor, confirmAction, el, formatSize, formatTime, notify, pageData, promptText, showError, uploadWithProgress, wireDialogs } from "./ui.js";

const data = pageData();
const api = new Api({ csrfToken: data.csrf_token });
const editor = new Editor({ onClose: () => loadFolder(state.folderId, { keepNotice: true }) });

const BUILTIN_NEW = [
  { label: "Document", ext: "docx", base: "New document" },
  { label: "Spreadsheet", ext: "xlsx", base: "New spreadsheet" },
  { label: "Presentation", ext: "pptx", base: "New presentation" },
];

const ROLE_NAMES = {
  owner: "owner",
  viewer: "can view",
  form_filler: "can fill in forms",
  commenter: "can comment",
  reviewer: "can suggest changes",
  editor: "can edit",
};
const ROLE_ORDER = ["viewer", "form_filler", "commenter", "reviewer", "editor"];

const state = {
  view: new URLSearchParams(location.search).get("view") === "shared" ? "shared" : "folder",
  folderId: new URLSearchParams(location.search).get("folder") || data.home_id,
  folder: null,
  sort: "name",
  ascending: true,
  apps: new Map(), // mimetype -> /app/list entry
  creatable: [],
};

// --- apps ------------------------------------------------------------------------------

async function loadApps() {
  try {
    const listing = await api.appList();
    state.apps = new Map(listing["mime-types"].map((entry) => [entry.mime_type, entry]));
  } catch {
    state.apps = new Map(); // opening will explain; browsing goes on
  }
  const builtinExts = new Set(BUILTIN_NEW.map((item) => item.ext));
  state.creatable = [...state.apps.values()]
    .filter((entry) => entry.allow_creation && entry.ext && !builtinExts.has(entry.ext))
    .map((entry) => ({ label: entry.name || entry.ext.toUpperCase(), ext: entry.ext, base: "New file" }));
  renderNewMenu();
}

function appsFor(node) {
  const entry = state.apps.get(node.mimetype);
  return entry ? entry.app_providers : [];
}

// --- locks -----------------------------------------------------------------------------

/** "being edited in Collabora by Alice", for a file's lock ({app, user, …}). */
function lockText(lock) {
  return `being edited in ${lock.app || "another app"} by ${lock.user || "another user"}`;
}

/** Whether opening `node` in its default app only reads it: another app holds it. */
function opensReadOnly(node) {
  if (!node.lock) return false;
  const entry = state.apps.get(node.mimetype);
  return !entry || entry.default_application !== node.lock.app;
}

function lockMark(lock) {
  const text = lockText(lock);
  return el(
    "span",
    { className: "badge lock", title: `Locked: ${text}`, dataset: { lockApp: lock.app, lockUser: lock.user } },
    el("span", { className: "visually-hidden" }, "Locked, "),
    `${lock.user || "someone"} · ${lock.app || "another app"}`,
  );
}

// --- folders ---------------------------------------------------------------------------

async function loadFolder(folderId, { push = false, keepNotice = false } = {}) {
  try {
    state.folder = await api.container(folderId);
  } catch (error) {
    if (folderId !== data.home_id) {
      notify(error.message, "error");
      return loadFolder(data.home_id, { push: true, keepNotice: true });
    }
    notify(error.message, "error");
    return;
  }
  state.folderId = folderId;
  state.view = "folder";
  if (push) {
    const url = folderId === data.home_id ? "/" : `/?folder=${encodeURIComponent(folderId)}`;
    history.pushState({ folder: folderId }, "", url);
  }
  if (!keepNotice) document.getElementById("notice").hidden = true;
  render();
}

function showSection() {
  const shared = state.view === "shared";
  document.getElementById("shared-with-me").hidden = !shared;
  document.getElementById("drop-zone").hidden = shared;
  document.querySelector(".toolbar").hidden = shared;
  document.getElementById("breadcrumbs").hidden = shared;
  const mine = document.getElementById("section-mine");
  const sharedLink = document.getElementById("section-shared");
  const inside = !shared && state.folder && state.folder.role !== "owner";
  (shared || inside ? mine : sharedLink).removeAttribute("aria-current");
  (shared || inside ? sharedLink : mine).setAttribute("aria-current", "page");
}

async function loadShared({ push = false } = {}) {
  let answer;
  try {
    answer = await api.sharedWithMe();
  } catch (error) {
    notify(error.message, "error");
    return;
  }
  state.view = "shared";
  if (push) history.pushState({ view: "shared" }, "", "/?view=shared");
  document.getElementById("my-role").hidden = true;
  const rows = document.getElementById("shared-rows");
  rows.replaceChildren(...answer.items.map(renderSharedRow));
  document.getElementById("shared-empty").hidden = answer.items.length > 0;
  showSection();
}

function renderSharedRow(item) {
  const isFolder = item.type === "folder";
  const name = el(
    "a",
    {
      href: isFolder ? `/?folder=${encodeURIComponent(item.id)}` : api.contentUrl(item.id),
      className: "name",
      onclick: (event) => {
        event.preventDefault();
        if (isFolder) loadFolder(item.id, { push: true });
        else openFile(item);
      },
    },
    fileIcon(item),
    el("span", { className: "label" }, item.name),
  );
  const sharer = item.sharer ? item.sharer.display_name || item.sharer.name : "—";
  const via = item.via_group ? ` (to ${item.via_group})` : "";
  return el(
    "tr",
    { dataset: { name: item.name, type: item.type, role: item.role } },
    el("td", {}, name),
    el("td", {}, el("span", { className: "badge role" }, ROLE_NAMES[item.role] || item.role)),
    el("td", { className: "col-modified" }, `${sharer}${via}`),
    el("td", { className: "actions" }, isFolder ? null : el("button", { type: "button", className: "small", onclick: () => openFile(item) }, "Open")),
  );
}

function sorted(children) {
  const direction = state.ascending ? 1 : -1;
  const key = {
    name: (a, b) => a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: "base" }),
    modified: (a, b) => a.modified.localeCompare(b.modified),
    size: (a, b) => a.size - b.size,
  }[state.sort];
  return [...children].sort((a, b) => {
    if (a.type !== b.type) return a.type === "folder" ? -1 : 1;
    return direction * (key(a, b) || a.name.localeCompare(b.name));
  });
}

function render() {
  showSection();
  renderBreadcrumbs();
  const myRole = document.getElementById("my-role");
  myRole.hidden = state.folder.role === "owner" || !state.folder.role;
  if (!myRole.hidden) {
    const by = state.folder.shared_by ? ` · shared by ${state.folder.shared_by.display_name || state.folder.shared_by.name}` : "";
    myRole.textContent = `You ${ROLE_NAMES[state.folder.role] || state.folder.role} here${by}.`;
  }
  const rows = document.getElementById("file-rows");
  const children = sorted(state.folder.children);
  rows.replaceChildren(...children.map(renderRow));
  document.getElementById("empty").hidden = children.length > 0;
  for (const header of document.querySelectorAll("#files th[data-sort]")) {
    if (header.dataset.sort === state.sort) header.setAttribute("aria-sort", state.ascending ? "ascending" : "descending");
    else header.removeAttribute("aria-sort");
  }
  document.getElementById("sort-select").value = state.sort;
  const direction = document.getElementById("sort-direction");
  direction.textContent = state.ascending ? "↑" : "↓";
  direction.setAttribute("aria-label", `Sort direction: ${state.ascending ? "ascending" : "descending"}`);
  const writable = state.folder.permissions.write;
  document.getElementById("new-button").disabled = !writable;
  document.getElementById("upload-input").disabled = !writable;
}

function renderBreadcrumbs() {
  const crumbs = [...state.folder.path, state.folder];
  const list = document.getElementById("breadcrumbs");
  const fromHome = state.folder.role === "owner";
  const first = fromHome
    ? []
    : [el("li", {}, el("a", { href: "/?view=shared", onclick: (event) => { event.preventDefault(); loadShared({ push: true }); } }, "Shared with me"))];
  list.replaceChildren(
    ...first,
    ...crumbs.map((node, index) => {
      const name = index === 0 && fromHome ? "Home" : node.name;
      if (index === crumbs.length - 1) return el("li", {}, el("span", { "aria-current": "page" }, name));
      return el("li", {}, el("a", { href: `/?folder=${encodeURIComponent(node.id)}`, onclick: (event) => navigate(event, node.id) }, name));
    }),
  );
}

function navigate(event, folderId) {
  event.preventDefault();
  loadFolder(folderId, { push: true });
}

function fileIcon(node) {
  const kinds = [
    [/wordprocessing|opendocument\.text|msword|rtf/, "doc", "W"],
    [/spreadsheet|ms-excel|csv/, "sheet", "X"],
    [/presentation|powerpoint/, "slides", "P"],
    [/pdf/, "pdf", "PDF"],
    [/^image\//, "image", "IMG"],
    [/^text\//, "text", "TXT"],
  ];
  if (node.type === "folder") return el("span", { className: "icon icon-folder", "aria-hidden": "true" });
  const [, kind, letter] = kinds.find(([pattern]) => pattern.test(node.mimetype)) || [null, "file", ""];
  return el("span", { className: `icon icon-${kind}`, "aria-hidden": "true" }, letter);
}

function renderRow(node) {
  const isFolder = node.type === "folder";
  const nameButton = el(
    "a",
    {
      href: isFolder ? `/?folder=${encodeURIComponent(node.id)}` : api.contentUrl(node.id),
      className: "name",
      dataset: { id: node.id },
      onclick: (event) => {
        if (isFolder) return navigate(event, node.id);
        event.preventDefault();
        openFile(node);
      },
    },
    fileIcon(node),
    el("span", { className: "label" }, node.name),
    node.shared ? el("span", { className: "badge shared", title: "Shared with people or groups" }, "shared") : null,
  );
  const details = isFolder ? "Folder" : `${formatSize(node.size)} · ${formatTime(node.modified)}`;
  return el(
    "tr",
    { dataset: node.lock ? { name: node.name, type: node.type, locked: "true" } : { name: node.name, type: node.type } },
    el("td", {}, nameButton, node.lock ? lockMark(node.lock) : null, el("span", { className: "row-details" }, details)),
    el("td", { className: "col-modified" }, el("time", { datetime: node.modified }, formatTime(node.modified))),
    el("td", { className: "col-size" }, isFolder ? "—" : formatSize(node.size)),
    el("td", { className: "actions" }, actionsMenu(node)),
  );
}

let openMenu = null;

function closeMenus() {
  if (openMenu) {
    openMenu.menu.hidden = true;
    openMenu.button.setAttribute("aria-expanded", "false");
    openMenu = null;
  }
}

function menuButton(label, items, className = "") {
  const menu = el("ul", { className: "menu", role: "menu", hidden: true });
  const button = el("button", { type: "button", className, "aria-haspopup": "menu", "aria-expanded": "false" }, label);
  const fill = () =>
    menu.replaceChildren(
      ...items().map((item) =>
        el("li", { role: "none" }, el("button", { type: "button", role: "menuitem", className: item.danger ? "danger-text" : "", onclick: () => { closeMenus(); item.run(); } }, item.label)),
      ),
    );
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    const wasOpen = openMenu && openMenu.menu === menu;
    closeMenus();
    if (wasOpen) return;
    fill();
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    openMenu = { menu, button };
    const first = menu.querySelector("button");
    if (first) first.focus();
  });
  return el("div", { className: "menu-wrap" }, button, menu);
}

function actionsMenu(node) {
  const items = () => {
    const list = [];
    if (node.type === "file") {
      const readOnly = opensReadOnly(node);
      list.push({ label: readOnly ? `Open read-only (${lockText(node.lock)})` : "Open", run: () => openFile(node) });
      list.push({ label: "Open with…", run: () => openWith(node) });
      list.push({ label: "Download", run: () => download(node) });
      list.push({ label: "Versions", run: () => showVersions(node) });
    } else {
      list.push({ label: "Open folder", run: () => loadFolder(node.id, { push: true }) });
    }
    const permissions = state.folder.permissions;
    if (permissions.share) list.push({ label: "Share", run: () => showShare(node) });
    if (permissions.write) {
      list.push({ label: "Rename", run: () => rename(node) });
      list.push({ label: "Delete", run: () => remove(node), danger: true });
    }
    return list;
  };
  const wrap = menuButton("⋯", items, "icon-button");
  wrap.querySelector("button").setAttribute("aria-label", `Actions for ${node.name}`);
  return wrap;
}

// --- New menu ---------------------------------------------------------------------------

function renderNewMenu() {
  const menu = document.getElementById("new-menu");
  const entries = [
    { label: "Folder", run: createFolder },
    ...[...BUILTIN_NEW, ...state.creatable].map((item) => ({ label: item.label, run: () => createFile(item) })),
  ];
  menu.replaceChildren(
    ...entries.map((item) => el("li", { role: "none" }, el("button", { type: "button", role: "menuitem", onclick: () => { closeMenus(); item.run(); } }, item.label))),
  );
}

function uniqueName(base, ext) {
  const taken = new Set(state.folder.children.map((child) => child.name.toLowerCase()));
  const suffix = ext ? `.${ext}` : "";
  let name = `${base}${suffix}`;
  for (let counter = 2; taken.has(name.toLowerCase()); counter += 1) name = `${base} (${counter})${suffix}`;
  return name;
}

async function createFolder() {
  const name = await promptText({
    title: "New folder",
    label: "Folder name",
    value: uniqueName("New folder", ""),
    okLabel: "Create",
    submit: async (text) => {
      await api.createFolder(state.folderId, text);
      return text;
    },
  });
  if (name === null) return;
  await loadFolder(state.folderId);
  notify(`Folder “${name}” created.`, "success");
}

async function createFile(item) {
  const initial = uniqueName(item.base, item.ext);
  const created = await promptText({
    title: `New ${item.label.toLowerCase()}`,
    label: "File name",
    value: initial,
    okLabel: "Create",
    select: [0, initial.length - item.ext.length - 1],
    submit: async (text) => {
      const name = text.toLowerCase().endsWith(`.${item.ext}`) ? text : `${text}.${item.ext}`;
      const answer = await api.appNew(state.folderId, name);
      return { id: answer.file_id, name };
    },
  });
  if (created === null) return;
  await loadFolder(state.folderId);
  const node = state.folder.children.find((child) => child.id === created.id) || { id: created.id, name: created.name, mimetype: "", type: "file" };
  notify(`“${created.name}” created.`, "success");
  await openFile(node);
}

// --- opening -------------------------------------------------------------------------------

async function openFile(node, appName = "") {
  closeMenus();
  try {
    const launch = await api.appOpen(node.id, appName);
    // Another app holds the file: it opens read-only, and the answer says who edits it.
    await editor.show(launch, launch.message ? `${node.name} (read-only: ${launch.message})` : node.name);
  } catch (error) {
    const action = el("button", { type: "button", className: "link-button", onclick: () => download(node) }, "Download instead");
    notify(error.message, "error", action);
  }
}

function openWith(node) {
  const dialog = document.getElementById("openwith-dialog");
  const apps = appsFor(node);
  const list = document.getElementById("openwith-list");
  document.getElementById("openwith-title").textContent = `Open “${node.name}” with…`;
  if (!apps.length) {
    list.replaceChildren(el("li", { className: "muted" }, "No editor is configured for this kind of file. You can still download it."));
  } else {
    const entry = state.apps.get(node.mimetype);
    list.replaceChildren(
      ...apps.map((app) =>
        el(
          "li",
          {},
          el(
            "button",
            { type: "button", className: "choice", onclick: () => { dialog.close(); openFile(node, app.name); } },
            app.icon ? el("img", { src: app.icon, alt: "", width: 24, height: 24 }) : null,
            el("span", {}, app.name),
            app.name === entry.default_application ? el("span", { className: "badge" }, "default") : null,
            app.description ? el("span", { className: "muted small" }, app.description) : null,
          ),
        ),
      ),
    );
  }
  dialog.showModal();
}

function download(node, number = null) {
  const link = el("a", { href: number ? api.versionUrl(node.id, number) : api.contentUrl(node.id), download: node.name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
}

// --- rename, delete ------------------------------------------------------------------------

async function rename(node) {
  const dot = node.type === "file" ? node.name.lastIndexOf(".") : -1;
  const renamed = await promptText({
    title: `Rename “${node.name}”`,
    label: "New name",
    value: node.name,
    okLabel: "Rename",
    select: [0, dot > 0 ? dot : node.name.length],
    submit: async (text) => (await api.rename(node.id, text)).name,
  });
  if (renamed === null) return;
  await loadFolder(state.folderId);
  notify(`Renamed to “${renamed}”.`, "success");
}

async function remove(node) {
  const what = node.type === "folder" ? "the folder and everything in it" : "the file and all its versions";
  const sure = await confirmAction({ title: `Delete “${node.name}”?`, text: `This deletes ${what}.`, okLabel: "Delete" });
  if (!sure) return;
  try {
    await api.remove(node.id);
    await loadFolder(state.folderId);
    notify(`“${node.name}” deleted.`, "success");
  } catch (error) {
    notify(error.message, "error");
  }
}

// --- uploads ----------------------------------------------------------------------------

function uploadFiles(files) {
  if (!state.folder || !state.folder.permissions.write) {
    notify("You cannot upload into this folder.", "error");
    return;
  }
  const folderId = state.folderId;
  return uploadWithProgress(api, files, (file) => api.uploadUrl(folderId, file.name)).then(() => {
    if (state.folderId === folderId) return loadFolder(folderId, { keepNotice: true });
    return null;
  });
}

function wireUploads() {
  const input = document.getElementById("upload-input");
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    if (files.length) uploadFiles(files);
  });
  const zone = document.getElementById("browser");
  let depth = 0;
  const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  zone.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth += 1;
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragover", (event) => {
    if (hasFiles(event)) event.preventDefault();
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("dragging");
  });
  zone.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    zone.classList.remove("dragging");
    uploadFiles(event.dataTransfer.files);
  });
}

// --- versions -------------------------------------------------------------------------------

// How an editor said it saved (Collabora's flags, ONLYOFFICE's callback).
const SAVE_KINDS = { autosave: "autosave", "exit-save": "save on close", save: "save" };

async function showVersions(node) {
  const dialog = document.getElementById("versions-dialog");
  const error = document.getElementById("versions-error");
  document.getElementById("versions-title").textContent = `Versions of “${node.name}”`;
  error.hidden = true;
  const rows = document.getElementById("versions-rows");
  const fill = async () => {
    const answer = await api.versions(node.id);
    const versions = [...answer.versions].sort((a, b) => b.version - a.version);
    rows.replaceChildren(
      ...versions.map((version) =>
        el(
          "tr",
          { dataset: { version: version.version } },
          el(
            "td",
            {},
            `${version.version}`,
            version.current ? el("span", { className: "badge" }, "current") : null,
            version.recovered ? el("span", { className: "badge warn" }, "recovered") : null,
            version.save_kind ? el("span", { className: "badge muted", dataset: { saveKind: version.save_kind } }, SAVE_KINDS[version.save_kind] || version.save_kind) : null,
          ),
          el("td", {}, version.author || "—", version.comment ? el("span", { className: "muted small block" }, version.comment) : null),
          el("td", {}, el("time", { datetime: version.created }, formatTime(version.created))),
          el("td", {}, formatSize(version.size)),
          el(
            "td",
            { className: "actions" },
            el("div", { className: "action-row" }, el("a", { href: api.versionUrl(node.id, version.version), download: node.name, className: "button small" }, "Download"),
            version.current
              ? null
              : el(
                  "button",
                  {
                    type: "button",
                    className: "small",
                    onclick: async (event) => {
                      event.currentTarget.disabled = true;
                      try {
                        const restored = await api.restore(node.id, version.version);
                        notify(`Version ${version.version} restored as version ${restored.version}.`, "success");
                        await fill();
                        await loadFolder(state.folderId, { keepNotice: true });
                      } catch (problem) {
                        showError(error, problem);
                      }
                    },
                  },
                  "Restore",
                ),
          )),
        ),
      ),
    );
  };
  try {
    await fill();
  } catch (problem) {
    notify(problem.message, "error");
    return;
  }
  if (!dialog.open) dialog.showModal();
}

// --- sharing --------------------------------------------------------------------------------

let shareNode = null;

async function fillLinks() {
  const list = document.getElementById("share-links");
  const answer = await api.links(shareNode.id);
  document.getElementById("share-none").hidden = answer.links.length > 0;
  list.replaceChildren(
    ...answer.links.map((link) => {
      const field = el("input", { type: "text", readonly: true, value: link.url, "aria-label": `${link.role} link address`, className: "link-url" });
      const copy = el("button", {
        type: "button",
        className: "small",
        onclick: async () => {
          field.select();
          try {
            await navigator.clipboard.writeText(link.url);
          } catch {
            document.execCommand("copy");
          }
          copy.textContent = "Copied";
          setTimeout(() => (copy.textContent = "Copy"), 2000);
        },
      }, "Copy");
      const facts = [link.role === "editor" ? "Can edit" : "Can view"];
      if (link.has_password) facts.push("password");
      if (link.no_download) facts.push("no download");
      if (link.expires_at) facts.push(`expires ${formatTime(link.expires_at)}`);
      return el(
        "li",
        { className: "link", dataset: { role: link.role } },
        el("span", { className: "muted small" }, facts.join(" · ")),
        el("div", { className: "link-row" }, field, copy, el("button", {
          type: "button",
          className: "small danger",
          onclick: async () => {
            try {
              await api.revokeLink(link.id);
              await fillLinks();
            } catch (problem) {
              showError(document.getElementById("share-error"), problem);
            }
          },
        }, "Revoke")),
      );
    }),
  );
}

function roleSelect(selected, upTo, onChange) {
  const allowed = ROLE_ORDER.slice(0, ROLE_ORDER.indexOf(upTo) + 1);
  const select = el("select", { className: "small", onchange: (event) => onChange(event.target.value) },
    ...allowed.map((role) => el("option", { value: role, selected: role === selected }, ROLE_NAMES[role])));
  return select;
}

async function fillPeople() {
  const list = document.getElementById("share-people");
  const answer = await api.shares(shareNode);
  document.getElementById("share-people-none").hidden = answer.shares.length > 0;
  const error = document.getElementById("people-error");
  const upTo = state.folder.permissions.share_up_to || "viewer";
  list.replaceChildren(
    ...answer.shares.map((share) => {
      const who = share.user ? share.user : `${share.group} (group)`;
      const change = async (body) => {
        try {
          await api.changeShare(shareNode, share.id, body);
          await fillPeople();
        } catch (problem) {
          showError(error, problem);
        }
      };
      return el(
        "li",
        { className: "link", dataset: { grantee: share.user || share.group, role: share.role } },
        el("div", { className: "link-row" },
          el("span", { className: "grantee" }, who),
          roleSelect(share.role, upTo, (role) => change({ role })),
          el("button", {
            type: "button",
            className: "small danger",
            onclick: async () => {
              try {
                await api.unshare(shareNode, share.id);
                await fillPeople();
                await refreshMarks();
              } catch (problem) {
                showError(error, problem);
              }
            },
          }, "Remove")),
        share.can_share ? el("span", { className: "muted small" }, "may share it with others") : null,
      );
    }),
  );
}

async function refreshMarks() {
  if (state.view === "folder") await loadFolder(state.folderId, { keepNotice: true });
}

let searchTimer = null;

function wirePeople() {
  const input = document.getElementById("people-search");
  const results = document.getElementById("people-results");
  const error = document.getElementById("people-error");
  const pick = async (grantee) => {
    error.hidden = true;
    const body = { ...grantee, role: document.getElementById("people-role").value, can_share: document.getElementById("people-can-share").checked };
    try {
      await api.share(shareNode, body);
      input.value = "";
      results.replaceChildren();
      await fillPeople();
      await refreshMarks();
    } catch (problem) {
      showError(error, problem);
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(searchTimer);
    const text = input.value.trim();
    if (!text) {
      results.replaceChildren();
      return;
    }
    searchTimer = setTimeout(async () => {
      try {
        const found = await api.findPeople(text);
        const choices = [
          ...found.users.filter((user) => user.name !== data.user.name).map((user) => ({
            label: user.display_name && user.display_name !== user.name ? `${user.display_name} (${user.name})` : user.name,
            grantee: { user: user.name },
          })),
          ...found.groups.map((group) => ({ label: `${group.display_name || group.name} (group)`, grantee: { group: group.name } })),
        ];
        results.replaceChildren(
          ...(choices.length
            ? choices.map((choice) => el("li", { role: "option" }, el("button", { type: "button", className: "choice", onclick: () => pick(choice.grantee) }, choice.label)))
            : [el("li", { className: "muted small" }, "Nobody found.")]),
        );
      } catch (problem) {
        showError(error, problem);
      }
    }, 200);
  });
  document.getElementById("people-form").addEventListener("submit", (event) => event.preventDefault());
}

async function showShare(node) {
  shareNode = node;
  const dialog = document.getElementById("share-dialog");
  document.getElementById("share-title").textContent = `Share “${node.name}”`;
  document.getElementById("share-error").hidden = true;
  document.getElementById("people-error").hidden = true;
  document.getElementById("share-form").reset();
  document.getElementById("people-form").reset();
  document.getElementById("people-results").replaceChildren();
  const upTo = state.folder.permissions.share_up_to || "viewer";
  const roleChoice = document.getElementById("people-role");
  for (const option of roleChoice.options) option.disabled = ROLE_ORDER.indexOf(option.value) > ROLE_ORDER.indexOf(upTo);
  roleChoice.value = "viewer";
  try {
    await Promise.all([fillPeople(), fillLinks()]);
  } catch (problem) {
    notify(problem.message, "error");
    return;
  }
  dialog.showModal();
}

function wireShare() {
  const form = document.getElementById("share-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("share-error");
    error.hidden = true;
    const body = { role: form.elements.role.value };
    const password = document.getElementById("share-password").value;
    if (password) body.password = password;
    const expiry = document.getElementById("share-expiry").value;
    if (expiry) body.expires_at = new Date(`${expiry}T23:59:59`).toISOString();
    if (document.getElementById("share-no-download").checked) body.no_download = true;
    try {
      await api.createLink(shareNode.id, body);
      form.reset();
      await fillLinks();
    } catch (problem) {
      showError(error, problem);
    }
  });
}

// --- start ----------------------------------------------------------------------------------

function wireToolbar() {
  const newButton = document.getElementById("new-button");
  const newMenu = document.getElementById("new-menu");
  newButton.addEventListener("click", (event) => {
    event.stopPropagation();
    const wasOpen = openMenu && openMenu.menu === newMenu;
    closeMenus();
    if (wasOpen) return;
    newMenu.hidden = false;
    newButton.setAttribute("aria-expanded", "true");
    openMenu = { menu: newMenu, button: newButton };
    newMenu.querySelector("button").focus();
  });
  document.addEventListener("click", (event) => {
    if (openMenu && !openMenu.menu.contains(event.target)) closeMenus();
  });
  document.addEventListener("keydown", (event) => {
    if (!openMenu) return;
    if (event.key === "Escape") {
      const button = openMenu.button;
      closeMenus();
      button.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      // Arrow keys move through the open menu's items, wrapping around.
      event.preventDefault();
      const items = [...openMenu.menu.querySelectorAll("button")];
      const step = event.key === "ArrowDown" ? 1 : -1;
      const index = items.indexOf(document.activeElement);
      items[(index + step + items.length) % items.length].focus();
    }
  });
  document.getElementById("sort-select").addEventListener("change", (event) => {
    state.sort = event.target.value;
    render();
  });
  document.getElementById("sort-direction").addEventListener("click", () => {
    state.ascending = !state.ascending;
    render();
  });
  for (const button of document.querySelectorAll("#files .sort-head")) {
    button.addEventListener("click", () => {
      if (state.sort === button.dataset.sort) state.ascending = !state.ascending;
      else {
        state.sort = button.dataset.sort;
        state.ascending = true;
      }
      render();
    });
  }
  window.addEventListener("popstate", () => {
    if (editor.isOpen) editor.close();
    const query = new URLSearchParams(location.search);
    if (query.get("view") === "shared") loadShared();
    else loadFolder(query.get("folder") || data.home_id);
  });
  document.getElementById("section-shared").addEventListener("click", (event) => {
    event.preventDefault();
    loadShared({ push: true });
  });
  document.getElementById("section-mine").addEventListener("click", (event) => {
    event.preventDefault();
    loadFolder(data.home_id, { push: true });
  });
}

async function start() {
  wireDialogs();
  wireToolbar();
  wireUploads();
  wireShare();
  wirePeople();
  await Promise.all([loadApps(), state.view === "shared" ? loadShared() : loadFolder(state.folderId)]);
  if (data.open) {
    // The open-with-web landing (/external): open the named file in the named app.
    try {
      const node = await api.file(data.open.file_id);
      if (node.parent_id && node.parent_id !== state.folderId) await loadFolder(node.parent_id);
      history.replaceState({}, "", state.folderId === data.home_id ? "/" : `/?folder=${encodeURIComponent(state.folderId)}`);
      await openFile(node, data.open.app);
    } catch (error) {
      notify(error.message, "error");
    }
  }
  document.body.dataset.ready = "true";
}

start();

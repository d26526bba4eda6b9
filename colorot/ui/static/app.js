// colorot ui: a plain page over the local server's JSON API (no build step, no network beyond this server).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { photos: [], methodOptions: {}, look: [], current: null, grade: null, previewBusy: false, previewAgain: false,
                figuresTimer: null, gradeSerial: 0, zoom: false,
                masks: {},          // photo id -> { data: ImageData at the preview's size, painted, version }
                grades: new Map() };  // what a grade was fitted from (photo, look, options, mask) -> its id

function say(text, isError = false) {
  const box = $("message");
  box.textContent = text;
  box.className = isError ? "error" : "";
}

// This page's name: the server drops the files it sent when it closes (pagehide), and cancels its jobs.
const PAGE = Math.random().toString(36).slice(2) + Date.now().toString(36);

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: { ...(options.headers || {}), "X-Colorot-Page": PAGE } });
  } catch (error) {  // the browser's "Failed to fetch": no server behind this page any more
    throw new Error("the colorot ui server has stopped: start it again (colorot ui) and open the page it prints");
  }
  const type = response.headers.get("content-type") || "";
  if (!response.ok) {
    const body = type.includes("json") ? await response.json() : { error: response.statusText };
    throw new Error(body.error || response.statusText);
  }
  return type.includes("json") ? response.json() : response.blob();
}

function postJSON(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// --- jobs: progress, cancel --------------------------------------------------------------------------------
async function runJob(job) {
  const box = $("job"), bar = $("job-progress");
  box.hidden = false;
  state.shownJob = job.id;  // the box shows the newest job; an older one finishing leaves it alone
  $("job-cancel").onclick = () => postJSON(`/api/jobs/${job.id}/cancel`, {}).catch(() => {});
  try {
    while (job.state === "running") {
      if (state.shownJob === job.id) {
        if (job.total > 1 || job.done > 0) { bar.max = job.total; bar.value = job.done; } else { bar.removeAttribute("value"); }
        $("job-message").textContent = job.message;
      }
      await new Promise((resolve) => setTimeout(resolve, 120));
      job = await api(`/api/jobs/${job.id}`);
    }
  } finally {
    if (state.shownJob === job.id) box.hidden = true;
  }
  if (job.state === "failed") throw new Error(job.error);
  if (job.state === "cancelled") {
    const written = (job.result && job.result.written) || [];
    throw new Error(written.length ? `cancelled; written before: ${written.join(", ")}` : "cancelled");
  }
  return job.result;
}

// --- opening files -----------------------------------------------------------------------------------------
async function openFiles(files, role) {
  for (const file of files) {
    say(`opening ${file.name}…`);
    try {
      const opened = await api(`/api/files?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
      try {
        addOpened(opened, role);
      } catch (error) {
        closeFile(opened.id);
        throw error;
      }
      say(`${file.name}: opened` + ((opened.notes || []).length ? ` (${opened.notes.join("; ")})` : ""));
    } catch (error) {
      say(error.message, true);
      return;
    }
  }
  // A new look changes the grade; a photo added beside the one shown does not: nothing is refitted for it.
  if (role === "look" || !state.grade) await regrade();
}

function closeFile(id) {
  postJSON(`/api/files/${id}/close`, {}).catch(() => {});
  for (const [key, grade] of state.grades) if (key.includes(`"${id}"`)) state.grades.delete(key);
  if ((state.gradeFiles || []).includes(id)) {  // the server drops the grades made of it
    state.grade = null;
    $("after").removeAttribute("src");
  }
}

function removePhoto(id) {
  state.photos = state.photos.filter((photo) => photo.id !== id);
  closeFile(id);
  if (state.current === id) {
    state.current = null;
    state.grade = null;
    $("before").removeAttribute("src");
    $("after").removeAttribute("src");
    if (state.photos.length) selectPhoto(state.photos[0].id);
  }
  renderLists();
}

function addOpened(opened, role) {
  if (role === "photo") {
    if (opened.kind !== "image") throw new Error(`${opened.name} is a lookup table: open it as the look`);
    state.photos.push(opened);
    if (!state.current) selectPhoto(opened.id, false);
  } else {
    if (opened.kind !== "image" || state.look.some((item) => item.kind !== "image")) state.look = [];
    state.look.push({ ...opened, weight: 1 });
  }
  renderLists();
}

function selectPhoto(id, grade = true) {
  state.current = id;
  state.grade = null;
  $("mask-on").checked = false;  // the brush is put down; each photo keeps its own mask
  $("mask-canvas").classList.remove("painting");
  showMaskState();
  maskCanvas();  // this photo's own mask (or none)
  $("before").onload = null;
  $("before").src = state.zoom ? `/api/files/${id}/full` : `/api/files/${id}/preview`;
  $("after").removeAttribute("src");
  delete $("after").dataset.grade;
  clearFigures();
  renderLists();
  if (grade) regrade();  // a grade this photo already has (same look, options and mask) is shown, not refitted
}

function renderLists() {
  $("stage").hidden = !state.current;
  $("empty").hidden = !!state.current;
  for (const element of document.querySelectorAll("#viewer .toolbar, #figures, #viewer > .hint")) {
    element.hidden = !state.current;  // nothing to compare, measure or repeat yet
  }
  // A table look (.cube, Hald, look file) is applied as it is: the fitting options do not apply to it.
  const table = state.look.some((entry) => entry.kind !== "image");
  for (const id of ["method", "space", "reach", "keep-luma", "regrain", "refine"]) {
    $(id).disabled = table;
    $(id).title = table ? "a table look is applied as it is; this option fits a map from style photos" : "";
  }
  const photos = $("photo-list");
  photos.replaceChildren(...state.photos.map((photo) => {
    const item = document.createElement("li");
    item.className = photo.id === state.current ? "current" : "";
    item.innerHTML = `<input type="checkbox" class="batch" checked title="in the batch"><span class="name"></span>` +
      `<button type="button" title="close this photo">×</button>`;
    item.querySelector(".name").textContent = `${photo.name} (${photo.width}×${photo.height})`;
    if ((photo.notes || []).length) {  // how it was read (CMYK converted, depth, profile), kept in view
      const note = document.createElement("span");
      note.className = "note";
      note.textContent = "note";
      note.title = photo.notes.join("; ");
      item.querySelector(".name").title = photo.notes.join("; ");
      item.insertBefore(note, item.querySelector("button"));
    }
    item.querySelector(".batch").dataset.id = photo.id;
    item.querySelector(".name").onclick = () => selectPhoto(photo.id);
    item.querySelector("button").onclick = () => removePhoto(photo.id);
    return item;
  }));
  const look = $("look-list");
  look.replaceChildren(...state.look.map((entry, index) => {
    const item = document.createElement("li");
    item.innerHTML = `<img class="thumb" alt=""><span class="name"></span>` +
      `<input class="weight" type="number" min="0" step="0.1"><button type="button">×</button>`;
    item.querySelector(".name").textContent = entry.kind === "image" ? entry.name : `${entry.name} (${entry.kind})`;
    const thumb = item.querySelector(".thumb");
    if (entry.kind === "image") thumb.src = `/api/files/${entry.id}/preview`; else thumb.remove();
    const weight = item.querySelector(".weight");
    weight.value = entry.weight;
    weight.hidden = entry.kind !== "image";
    weight.onchange = () => { entry.weight = Number(weight.value); regrade(); };
    item.querySelector("button").onclick = () => {
      state.look.splice(index, 1);
      if (!state.look.some((other) => other.id === entry.id)) closeFile(entry.id);
      renderLists();
      regrade();
    };
    return item;
  }));
}

// --- grading and the preview -------------------------------------------------------------------------------
function options() {
  return { method: $("method").value, space: $("space").value, keep_luma: $("keep-luma").checked,
           reach: $("reach").value.trim(), regrain: $("regrain").value, refine: $("refine").value };
}

function setOptions(o) {
  $("method").value = o.method; $("space").value = o.space; $("keep-luma").checked = o.keep_luma;
  $("reach").value = o.reach; $("regrain").value = o.regrain; $("refine").value = o.refine;
}

function strength() { return Number($("strength").value); }

function masked(photoId) { return !!(state.masks[photoId] && state.masks[photoId].painted); }

async function regrade() {
  const photoId = state.current;  // read once: the photo may change while this grade is on its way
  if (!photoId || !state.look.length) return;
  const serial = ++state.gradeSerial;
  if (state.gradeJob) postJSON(`/api/jobs/${state.gradeJob}/cancel`, {}).catch(() => {});  // superseded
  markStale();
  try {
    const look = state.look.map((entry) => [entry.id, entry.weight]);
    const asked = options();
    const key = JSON.stringify([photoId, look, asked, masked(photoId) ? state.masks[photoId].version : null]);
    let grade = state.grades.get(key);
    if (grade && !(await api(`/api/grades/${grade}`).then(() => true, () => false))) {
      state.grades.delete(key);  // the server let it go (it keeps a page's newest grades): fit it again
      grade = null;
    }
    if (serial !== state.gradeSerial) return;
    if (!grade) {
      let mask = null;
      if (masked(photoId)) mask = (await api(`/api/masks?photo=${photoId}`,
                                             { method: "POST", body: await maskBlob(photoId) })).id;
      if (serial !== state.gradeSerial) return;
      say("fitting the map…");
      const job = await postJSON("/api/grades", { photo: photoId, look, options: asked, mask });
      state.gradeJob = job.id;
      grade = (await runJob(job)).grade;
      state.grades.set(key, grade);
    }
    if (serial !== state.gradeSerial || photoId !== state.current) return;  // a newer grade was asked for
    state.grade = grade;
    state.gradeOptions = asked;
    state.gradeFiles = [photoId, ...look.map(([id]) => id)];
    const photo = state.photos.find((p) => p.id === photoId);
    $("status").textContent = `${photo.name} ← ${state.look.map((entry) => entry.name).join(" + ")}`;
    say("");
    showCommand();
    await refreshPreview();
  } catch (error) {
    if (serial !== state.gradeSerial) return;
    if (state.grade && state.gradeOptions && photoId === state.current) {
      setOptions(state.gradeOptions);  // the controls say what the preview, the export and the command are
      showCommand();
      say(`${error.message}; the controls are back to the grade shown`, true);
    } else {
      say(error.message, true);
    }
  }
}

async function refreshPreview() {
  if (!state.grade) return;
  if (state.previewBusy) { state.previewAgain = true; return; }
  state.previewBusy = true;
  try {
    do {
      state.previewAgain = false;
      const value = strength();
      const grade = state.grade;
      const blob = await api(`/api/grades/${grade}/${state.zoom ? "full" : "preview"}?strength=${value}`);
      if (grade !== state.grade) { state.previewAgain = true; continue; }
      const after = $("after");
      const old = after.src;
      await new Promise((resolve) => { after.onload = resolve; after.onerror = resolve; after.src = URL.createObjectURL(blob); });
      if (old.startsWith("blob:")) URL.revokeObjectURL(old);
      after.dataset.strength = value;
      after.dataset.grade = grade;
      after.dataset.zoom = state.zoom ? "1" : "";
    } while (state.previewAgain);
  } catch (error) {
    say(error.message, true);
  } finally {
    state.previewBusy = false;
  }
  clearTimeout(state.figuresTimer);
  state.figuresTimer = setTimeout(refreshFigures, 250);
}

// The figures belong to one grade at one strength: greyed out ("stale") from the moment another is asked for,
// until theirs arrive; cleared when the photo changes.
function markStale() {
  $("figures").classList.add("stale");
  delete $("figures").dataset.grade;
}

function clearFigures() {
  markStale();
  $("figures-table").replaceChildren();
  $("histograms").hidden = true;
}

async function refreshFigures() {
  if (!state.grade) return;
  const grade = state.grade, value = strength();
  const current = () => grade === state.grade && value === strength();
  try {
    const figures = await api(`/api/grades/${grade}/figures?strength=${value}`);
    if (!current()) return;
    $("figures-table").replaceChildren(...Object.entries(figures).map(([name, number]) => {
      const row = document.createElement("tr");
      row.innerHTML = "<td></td><td></td>";
      row.cells[0].textContent = name;
      row.cells[1].textContent = number.toFixed(4);
      return row;
    }));
    const blob = await api(`/api/grades/${grade}/histograms?strength=${value}`);
    if (!current()) return;
    const histograms = $("histograms"), old = histograms.src;
    await new Promise((resolve) => { histograms.onload = resolve; histograms.onerror = resolve;
                                     histograms.src = URL.createObjectURL(blob); });
    histograms.hidden = false;
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    if (!current()) return;
    $("figures").classList.remove("stale");
    $("figures").dataset.grade = grade;
    $("figures").dataset.strength = value;
  } catch (error) {
    say(error.message, true);
  }
}

function showCommand() {
  const photo = state.photos.find((p) => p.id === state.current);
  const o = options();
  const look = state.look.map((entry) => entry.name).join(" ");
  let command = state.look.some((entry) => entry.kind !== "image")
    ? `colorot apply ${look} ${photo.name} (at strength 1, without a mask)`
    : `colorot transfer ${photo.name} ${look} --strength ${strength()} --method ${o.method} --space ${o.space}`;
  if (!command.startsWith("colorot apply")) {
    if ((state.methodOptions[o.method] || []).includes("reach")) command += ` --reach ${o.reach}`;
    if (o.keep_luma) command += " --keep-luma";
    if (o.regrain !== "") command += ` --regrain ${o.regrain}`;  // empty: the method's own (as the CLI's)
    if (Number(o.refine)) command += ` --refine ${o.refine}`;
    if (state.look.length > 1) command += ` --weights ${state.look.map((entry) => entry.weight).join(",")}`;
    if (masked(state.current)) command += " --source-mask MASK (the _mask.png written beside the export)";
  }
  $("command").textContent = command;
}

// --- before / after ----------------------------------------------------------------------------------------
function setSplit(fraction) {
  const percent = Math.max(0, Math.min(100, fraction * 100));
  $("divider").style.left = `${percent}%`;
  $("after").style.clipPath = $("split").checked ? `inset(0 0 0 ${percent}%)` : "none";
}

function setupDivider() {
  const divider = $("divider"), frame = $("frame");
  let dragging = false;
  divider.addEventListener("pointerdown", (event) => {
    dragging = true;
    event.stopPropagation();  // not a pan of the zoomed view
    divider.setPointerCapture(event.pointerId);
  });
  divider.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    const box = frame.getBoundingClientRect();
    setSplit((event.clientX - box.left) / box.width);
  });
  divider.addEventListener("pointerup", () => { dragging = false; });
  $("split").onchange = () => { $("divider").hidden = !$("split").checked; setSplit($("split").checked ? 0.5 : 0); };
  $("show-before").onchange = () => { $("after").style.visibility = $("show-before").checked ? "hidden" : "visible"; };
  setSplit(0.5);
}

// --- 100% (actual pixels): the photo and its grade at full resolution, panned by dragging or scrolling -------
function setZoom(on) {
  state.zoom = on;
  $("zoom").checked = on;
  const stage = $("stage");
  const centre = [stage.scrollLeft + stage.clientWidth / 2, stage.scrollTop + stage.clientHeight / 2];
  const ratio = [centre[0] / Math.max(1, $("frame").offsetWidth), centre[1] / Math.max(1, $("frame").offsetHeight)];
  stage.classList.toggle("zoomed", on);
  if (!state.current) return;
  $("before").onload = () => {
    maskCanvas();
    if (on) {  // keep the middle of what was shown in the middle
      stage.scrollLeft = ratio[0] * $("frame").offsetWidth - stage.clientWidth / 2;
      stage.scrollTop = ratio[1] * $("frame").offsetHeight - stage.clientHeight / 2;
    }
  };
  $("before").src = on ? `/api/files/${state.current}/full` : `/api/files/${state.current}/preview`;
  refreshPreview();
}

function setupZoom() {
  const stage = $("stage");
  $("zoom").onchange = () => setZoom($("zoom").checked);
  let start = null;
  stage.addEventListener("pointerdown", (event) => {
    if (!state.zoom || $("mask-canvas").classList.contains("painting")) return;
    start = [event.clientX, event.clientY, stage.scrollLeft, stage.scrollTop];
    stage.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  stage.addEventListener("pointermove", (event) => {
    if (!start) return;
    stage.scrollLeft = start[2] - (event.clientX - start[0]);
    stage.scrollTop = start[3] - (event.clientY - start[1]);
  });
  stage.addEventListener("pointerup", () => { start = null; });
  // Keys, as in photo editors: \ before/after, Z 100%; not while typing in a field.
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "\\") {
      $("show-before").checked = !$("show-before").checked;
      $("show-before").onchange();
    } else if (event.key === "z" || event.key === "Z") {
      if (state.current) setZoom(!state.zoom);
    } else {
      return;
    }
    event.preventDefault();
  });
}

// --- the mask: painted on a canvas at the preview's size; alpha = where the original is kept ---------------
// Each photo keeps its mask (at its preview's size) until Clear: putting the brush down (unticking "Paint a
// mask") only hides the overlay, so the result is seen as exported.
function previewSize(photoId) { return state.photos.find((p) => p.id === photoId).preview; }

function maskCanvas() {
  const canvas = $("mask-canvas");
  const [width, height] = state.current ? previewSize(state.current) : [1, 1];
  if (canvas.width !== width || canvas.height !== height || canvas.dataset.photo !== state.current) {
    canvas.width = width;
    canvas.height = height;
    canvas.dataset.photo = state.current || "";
    const kept = state.masks[state.current];
    if (kept && kept.data) canvas.getContext("2d", { willReadFrequently: true }).putImageData(kept.data, 0, 0);
  }
  return canvas;
}

function keepMask() {
  const canvas = maskCanvas(), context = canvas.getContext("2d", { willReadFrequently: true });
  const data = context.getImageData(0, 0, canvas.width, canvas.height);
  let painted = false;
  for (let i = 3; i < data.data.length; i += 4) if (data.data[i]) { painted = true; break; }
  const previous = state.masks[state.current];
  state.masks[state.current] = { data, painted, version: (previous ? previous.version : 0) + 1 };
  showMaskState();
}

function showMaskState() {
  $("mask-state").textContent = masked(state.current)
    ? "This photo has a mask: the grade applies where it is clear (Clear removes it)." : "No mask: the grade applies everywhere.";
}

function clearMask() {
  const canvas = maskCanvas();
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  keepMask();
}

function dab(x, y) {
  const canvas = maskCanvas(), context = canvas.getContext("2d");
  const radius = Number($("brush-size").value) / 2, soft = Number($("brush-softness").value);
  // A hard brush is a solid disc (a radial gradient with equal radii paints nothing).
  const gradient = soft > 0 ? context.createRadialGradient(x, y, radius * (1 - soft), x, y, radius) : null;
  if (gradient) {
    gradient.addColorStop(0, "rgba(255,0,0,1)");
    gradient.addColorStop(1, "rgba(255,0,0,0)");
  }
  context.globalCompositeOperation = $("brush-paint").checked ? "destination-out" : "source-over";
  context.fillStyle = gradient || "rgba(255,0,0,1)";
  context.beginPath();
  context.arc(x, y, radius, 0, 2 * Math.PI);
  context.fill();
}

function setupMask() {
  const canvas = $("mask-canvas");
  let painting = false;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => { painting = true; canvas.setPointerCapture(event.pointerId); dab(...at(event)); });
  canvas.addEventListener("pointermove", (event) => { if (painting) dab(...at(event)); });
  canvas.addEventListener("pointerup", () => { if (painting) { painting = false; keepMask(); regrade(); } });
  $("mask-on").onchange = () => {  // the brush taken up or put down: the mask itself stays as it is
    canvas.classList.toggle("painting", $("mask-on").checked);
    maskCanvas();
  };
  $("mask-clear").onclick = () => { clearMask(); regrade(); };
  $("mask-invert").onclick = () => {
    const context = maskCanvas().getContext("2d");
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < image.data.length; i += 4) { image.data[i] = 255; image.data[i + 3] = 255 - image.data[i + 3]; }
    context.putImageData(image, 0, 0);
    keepMask();
    regrade();
  };
  $("mask-input").onchange = async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      const context = maskCanvas().getContext("2d");
      const scratch = new OffscreenCanvas(canvas.width, canvas.height).getContext("2d");
      scratch.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const image = scratch.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < image.data.length; i += 4) {
        image.data[i + 3] = 255 - image.data[i]; image.data[i] = 255; image.data[i + 1] = image.data[i + 2] = 0;
      }
      context.putImageData(image, 0, 0);
      keepMask();
      $("mask-on").checked = true;
      canvas.classList.add("painting");
      regrade();
    } catch (error) {
      say(`${file.name}: not an image the browser can read`, true);
    }
  };
}

async function maskBlob(photoId) {
  // White where the grade applies: 255 - the painted alpha (a copy of the photo's kept mask).
  const kept = state.masks[photoId].data;
  const image = new ImageData(new Uint8ClampedArray(kept.data), kept.width, kept.height);
  for (let i = 0; i < image.data.length; i += 4) {
    const value = 255 - image.data[i + 3];
    image.data[i] = image.data[i + 1] = image.data[i + 2] = value;
    image.data[i + 3] = 255;
  }
  const scratch = new OffscreenCanvas(image.width, image.height);
  scratch.getContext("2d").putImageData(image, 0, 0);
  return scratch.convertToBlob({ type: "image/png" });
}

// --- export ------------------------------------------------------------------------------------------------
async function exportWhat(what) {
  if (!state.grade) { say("grade a photo first", true); return; }
  try {
    const body = { grade: state.grade, strength: strength(), what, size: Number($("cube-size").value),
                   name: $("export-name").value, quality: $("export-quality").value };
    const result = await runJob(await postJSON("/api/exports", body));
    say(`written: ${result.written.join(", ")}`);
  } catch (error) {
    say(error.message, true);
  }
}

async function exportBatch() {
  const ids = [...document.querySelectorAll("#photo-list .batch:checked")].map((box) => box.dataset.id);
  if (!ids.length || !state.look.length) { say("open photos and a look first", true); return; }
  try {
    const look = state.look.map((entry) => [entry.id, entry.weight]);
    const result = await runJob(await postJSON("/api/batches", { photos: ids, look, options: options(),
      strength: strength(), shared: $("batch-shared").checked }));
    const failed = result.failed.map((item) => `${item.name}: ${item.error}`);
    say(`${result.written.length} written` + (failed.length ? `; failed: ${failed.join("; ")}` : ""), failed.length > 0);
  } catch (error) {
    say(error.message, true);
  }
}

// --- start ---------------------------------------------------------------------------------------------------
function setupDrop(section) {
  section.addEventListener("dragover", (event) => { event.preventDefault(); section.classList.add("over"); });
  section.addEventListener("dragleave", () => section.classList.remove("over"));
  section.addEventListener("drop", (event) => {
    event.preventDefault();
    section.classList.remove("over");
    openFiles([...event.dataTransfer.files], section.dataset.role);
  });
}

async function start() {
  const config = await api("/api/config");
  $("output-dir").textContent = config.output_dir;
  // Two intents: the look (what was done to the style photo) and the palette (the style photo's own colors).
  const groups = [["look", "The look: what was done to the style photo"],
                  ["palette", "The palette: the style photo's own colors"]].map(([intent, label]) => {
    const group = document.createElement("optgroup");
    group.label = label;
    group.append(...config.methods.filter((name) => (config.intents || {})[name] === intent)
                                  .map((name) => new Option(name, name)));
    return group;
  });
  $("method").replaceChildren(...groups);
  $("space").replaceChildren(...config.spaces.map((name) => new Option(name, name)));
  state.methodOptions = config.method_options;
  const defaults = config.defaults;  // the options object's, as the CLI's (None: the method's own, left empty)
  setOptions(Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, value === null ? "" : value])));
  for (const opened of config.opened) addOpened(opened, config.preload.photos.includes(opened.id) ? "photo" : "look");
  $("photo-input").onchange = (event) => openFiles([...event.target.files], "photo");
  $("look-input").onchange = (event) => openFiles([...event.target.files], "look");
  $("strength").addEventListener("input", () => {
    $("strength-value").textContent = strength().toFixed(2);
    markStale();
    refreshPreview();
    showCommand();
  });
  for (const id of ["method", "space", "keep-luma", "reach", "regrain", "refine"]) $(id).addEventListener("change", regrade);
  $("export-photo").onclick = () => exportWhat("photo");
  $("export-cube").onclick = () => exportWhat("cube");
  $("export-look").onclick = () => exportWhat("look");
  $("export-batch").onclick = exportBatch;
  document.querySelectorAll(".drop").forEach(setupDrop);
  setupDivider();
  setupZoom();
  setupMask();
  showMaskState();
  if (state.current && state.look.length) regrade();
  document.body.dataset.ready = "1";
}

window.addEventListener("pagehide", () => navigator.sendBeacon(`/api/close?page=${PAGE}`));
window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });  // its files are gone
start().catch((error) => say(error.message, true));

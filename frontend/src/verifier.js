// Guildmark's in-browser verifier: the verifier core (WebAssembly, built from the same
// Rust as `guildmark verify`) wired to the device page, the verify page and the offline
// verifier file. Nothing leaves the browser: documents are read locally and checked here.
// It expects the wasm-bindgen glue (the global `wasm_bindgen`) before it.
(function () {
  "use strict";

  const script = document.currentScript;
  let loading = null;

  // The offline file's module: base64 of its gzip, inflated by the browser itself.
  async function inlineModule(element) {
    const text = atob(element.textContent.trim());
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(inflated).arrayBuffer();
  }

  // Loads the module once: from a URL (served by a node) or inlined (the offline file).
  function load() {
    if (!loading) {
      const inline = document.getElementById("guildmark-wasm");
      const source = inline ? inlineModule(inline) : Promise.resolve(script && script.dataset.wasm);
      loading = source
        .then((module) => wasm_bindgen({ module_or_path: module }))
        .then(() => wasm_bindgen);
    }
    return loading;
  }

  function bytesOf(input) {
    if (typeof input === "string") return new TextEncoder().encode(input);
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError("verify takes a string, an ArrayBuffer or a Uint8Array");
  }

  // The report `guildmark verify --json` prints for `input` (with `trustText`, a trust.toml,
  // when given). Options: `at` (an RFC 3339 time to check as of), `name`, `trustName`.
  async function verify(input, trustText, options) {
    const opts = options || {};
    const core = await load();
    const at = opts.at ? Date.parse(opts.at) / 1000 : Date.now() / 1000;
    if (Number.isNaN(at)) throw new Error("at: " + JSON.stringify(opts.at) + " is not a time");
    let text;
    try {
      text = core.verify(bytesOf(input), opts.name || "the document",
        trustText == null ? undefined : String(trustText), opts.trustName || undefined, at);
    } catch (why) {
      throw why instanceof Error ? why : new Error(String(why));
    }
    return JSON.parse(text);
  }

  // --- Rendering: the same report the node's pages show, built from DOM nodes only. ---

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) {
      if (child != null) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // As `Report::conclusion`: failed checks decide; without any, an incomplete report
  // could not be fully verified.
  function conclusion(report) {
    if (report.verified) {
      return report.checks.some((c) => c.outcome === "unknown") ? "verified, with checks that could not be made" : "verified";
    }
    return !failedChecks(report).length && !report.complete ? "incomplete" : "failed";
  }

  const KINDS = { credential: "credential", presentation: "presentation", bundle: "provenance bundle" };

  function renderReport(report, level) {
    const kind = KINDS[report.kind] || report.kind;
    const failed = report.checks.filter((c) => c.outcome === "failed").length;
    const unknown = report.checks.filter((c) => c.outcome === "unknown").length;
    const state = conclusion(report);
    let cls, headline;
    if (state === "incomplete") {
      cls = "verdict verdict-unknown";
      headline = `The ${kind} could not be fully verified: ${unknown} check(s) could not be made`;
    } else if (!report.verified) {
      cls = "verdict verdict-failed";
      headline = `The ${kind} did not verify`;
    } else if (unknown) {
      cls = "verdict verdict-unknown";
      headline = `The ${kind} verified, but ${unknown} check(s) could not be made`;
    } else {
      cls = "verdict verdict-passed";
      headline = `The ${kind} verified`;
    }
    const rows = report.checks.map((c) => el("tr", { class: "check-" + c.outcome, "data-check": c.check },
      el("td", {}, el("span", { class: "tag tag-" + c.outcome }, c.outcome)),
      el("th", { scope: "row" }, el("code", {}, c.check)),
      el("td", {}, c.reason)));
    const section = el("section", { class: "report", "data-verified": String(report.verified) },
      el(level <= 2 ? "h2" : "h3", { class: cls }, headline),
      el("p", { class: "muted" },
        `${report.checks.length} checks: ${report.checks.length - failed - unknown} passed, ${failed} failed, ${unknown} unknown — as of ${report.checkedAt}`),
      report.issuer ? el("p", {}, "Issuer: ", el("code", { class: "id" }, report.issuer)) : null,
      el("div", { class: "scroll" }, el("table", { class: "checks" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Outcome"), el("th", { scope: "col" }, "Check"), el("th", { scope: "col" }, "Why"))),
        el("tbody", {}, ...rows))));
    for (const doc of report.documents || []) section.append(renderReport(doc, level + 1));
    return section;
  }

  // Every failed check's name, nested documents' included.
  function failedChecks(report) {
    const own = report.checks.filter((c) => c.outcome === "failed").map((c) => c.check);
    return own.concat(...(report.documents || []).map(failedChecks));
  }

  // The first failed (else unknown) check, named, searching nested documents too.
  function firstProblem(report, outcome) {
    const own = report.checks.find((c) => c.outcome === outcome);
    if (own) return own.check + ": " + own.reason;
    for (const doc of report.documents || []) {
      const found = firstProblem(doc, outcome);
      if (found) return found;
    }
    return null;
  }

  function reportOf(json) {
    return json.report ? json.report : json;
  }

  // --- The device page: verify the bundle the page is about, as soon as it loads. ---

  async function checkDevice(box) {
    const status = box.querySelector(".browser-status");
    const nodeVerdict = box.dataset.nodeVerdict;
    status.textContent = "Checking in your browser…";
    box.classList.add("browser-checking");
    let json;
    try {
      const [bundle, trustText] = await Promise.all([
        fetch(box.dataset.bundle).then((r) => { if (!r.ok) throw new Error("the bundle: HTTP " + r.status); return r.arrayBuffer(); }),
        fetch(box.dataset.trust).then((r) => { if (!r.ok) throw new Error("the trust file: HTTP " + r.status); return r.text(); }),
      ]);
      json = await verify(bundle, trustText, { name: "the provenance bundle", trustName: "this node's trust file" });
    } catch (why) {
      box.classList.remove("browser-checking");
      status.textContent = "Your browser could not check this device: " + why.message;
      box.dataset.browserVerdict = "error";
      return;
    }
    const report = reportOf(json);
    const evaluation = json.evaluation;
    // A pending or rejected batch fails its review rules (and so the report), yet its
    // credentials may be perfectly genuine: the verdict stands when nothing else failed.
    const authenticity = failedChecks(report).filter((c) => !c.startsWith("review: ") && c !== "certified");
    const computed = evaluation && !authenticity.length && report.complete ? evaluation.verdict : null;
    box.classList.remove("browser-checking");
    performance.mark("guildmark-verdict");
    box.dataset.browserVerdict = computed || (authenticity.length ? "failed" : "incomplete");
    box.querySelector("h2").textContent = "Checked in your browser";
    if (computed) {
      status.textContent = `Verified in your browser: every signature, receipt and rule of this bundle was checked here, and the verdict recomputed from it is ${computed}.`;
    } else if (authenticity.length) {
      status.textContent = "Your browser's check FAILED: " + firstProblem(report, "failed");
    } else {
      status.textContent = "Your browser could not fully verify this bundle: " + (firstProblem(report, "unknown") || "the verdict could not be recomputed");
    }
    box.append(el("details", { class: "browser-report" },
      el("summary", {}, `Every check your browser made (${report.checks.length})`),
      renderReport(report, 3)));
    // Beside every reason the node lists: whether the browser found the same.
    for (const item of document.querySelectorAll(".reasons li[data-rule]")) {
      const check = report.checks.find((c) => c.check === "review: " + item.dataset.rule);
      const mark = el("span", { class: "browser-mark" });
      if (computed && check && check.outcome === item.dataset.outcome) {
        mark.classList.add("browser-passed");
        mark.textContent = " ✓ Verified in your browser";
      } else {
        mark.classList.add("browser-failed");
        mark.textContent = check ? ` ✗ Your browser: ${check.outcome} — ${check.reason}` : " ✗ Your browser could not confirm this";
      }
      item.append(mark);
    }
    for (const claim of document.querySelectorAll(".node-claim")) {
      claim.textContent = "The node's claim (its own verdict, shown for comparison):";
    }
    if (computed !== nodeVerdict) {
      const said = computed
        ? `The node says this device is ${nodeVerdict}, but the bundle's own credentials, checked in your browser, give ${computed}.`
        : `The node says this device is ${nodeVerdict}, but your browser could not confirm it: ${firstProblem(report, "failed") || firstProblem(report, "unknown") || "the verdict could not be recomputed"}`;
      const alarm = el("section", { class: "disagreement", role: "alert" },
        el("h2", {}, "Your browser disagrees with this node"), el("p", {}, said));
      const main = document.querySelector("main") || document.body;
      main.prepend(alarm);
    }
  }

  // --- The verify page and the offline file: documents verified locally, never uploaded. ---

  function readFile(file) {
    return file.arrayBuffer();
  }

  function wireVerifier(form) {
    const textarea = form.querySelector("textarea");
    const fileInput = form.querySelector("input[type=file][name=file]");
    const trustInput = form.querySelector("input[type=file][name=trust]");
    const result = document.getElementById(form.dataset.result);
    const embedded = document.getElementById("guildmark-trust");
    let dropped = null;

    async function run(input, name) {
      result.replaceChildren(el("p", { class: "browser-status" }, "Checking in your browser…"));
      let trust, trustName;
      if (trustInput && trustInput.files.length) {
        trust = await trustInput.files[0].text();
        trustName = trustInput.files[0].name;
      } else if (embedded) {
        trust = embedded.textContent;
        trustName = "the embedded trust file";
      }
      try {
        const json = await verify(input, trust, { name, trustName });
        result.replaceChildren(
          el("p", { class: "browser-status" }, "Checked in your browser; nothing was uploaded."),
          renderReport(reportOf(json), 2));
        if (json.evaluation) {
          result.append(el("p", { class: "browser-verdict" }, "Verdict recomputed from the bundle: ",
            el("span", { class: "tag tag-" + json.evaluation.verdict }, json.evaluation.verdict)));
        }
        result.dataset.json = JSON.stringify(json);
      } catch (why) {
        result.replaceChildren(el("p", { class: "refusal", role: "alert" }, why.message));
      }
    }

    form.addEventListener("submit", async (event) => {
      // Without a working module (a browser without WebAssembly), a node's form still
      // posts to the node, which verifies it there.
      if (unavailable && form.getAttribute("action")) return;
      event.preventDefault();
      if (dropped) {
        const file = dropped;
        dropped = null;
        return run(await readFile(file), file.name);
      }
      if (fileInput && fileInput.files.length) {
        return run(await readFile(fileInput.files[0]), fileInput.files[0].name);
      }
      return run(textarea.value, "the pasted document");
    });
    const zone = form.closest(".drop-zone") || form;
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      const files = [...event.dataTransfer.files];
      const trust = files.find((f) => f.name.endsWith(".toml"));
      if (trust && trustInput) {
        const list = new DataTransfer();
        list.items.add(trust);
        trustInput.files = list.files;
      }
      const doc = files.find((f) => f !== trust);
      if (doc) {
        dropped = doc;
        form.requestSubmit();
      }
    });
    const note = form.querySelector(".no-upload");
    if (note) note.hidden = false;
  }

  let unavailable = false;
  window.guildmark = { verify, trust: null };
  function start() {
    const embedded = document.getElementById("guildmark-trust");
    if (embedded) window.guildmark.trust = embedded.textContent;
    // Start loading now, so a page stays able to verify after its node goes away.
    load().then(() => document.documentElement.dataset.verifier = "ready",
      (why) => {
        unavailable = true;
        document.documentElement.dataset.verifier = "failed";
        for (const s of document.querySelectorAll(".browser-status")) {
          s.textContent = "The in-browser verifier could not start: " + why;
        }
      });
    const device = document.getElementById("browser-check");
    if (device) checkDevice(device);
    for (const form of document.querySelectorAll("form.browser-verify")) wireVerifier(form);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// keras-soundgan pads: one pad per class of a conditional generator; a click runs the
// exported waveform signature (generator + Griffin-Lim, all inside model.tflite) with
// LiteRT.js in WebAssembly and plays the sound with Web Audio.
//
// What the page reads, all from its own folder (written by
// `keras-soundgan export RUN --format web --output DIR`):
//   model.tflite        the waveform signature, batch 1: z [1, latent_dim] (and an int32
//                       label [1] for a conditional model) -> waveform [1, slice_length]
//                       (peak already limited to 1) and sample_rate
//   model.tflite.json   its metadata: latent_dim, latent_distribution, class_names, ...
//   litertjs/           the LiteRT.js runtime (vendored from npm @litertjs/core)
//
// URL parameters: ?model=other.tflite, ?accelerator=webgpu (default wasm).
//
// For tests and measurements the page exposes window.drumpad: {ready, meta, last,
// generate(label, z), benchmark(count, label)}; `last` holds the latest sound's label, z,
// samples and generation time in ms.

import {loadLiteRt, loadAndCompile, Tensor} from "./litertjs/core/index.js";

const params = new URLSearchParams(location.search);
const MODEL = params.get("model") || "model.tflite";
const ACCELERATOR = params.get("accelerator") || "wasm";
const SIGNATURE = "waveform";

const $ = (id) => document.getElementById(id);
const api = {ready: false, meta: null, last: null, generate: null, benchmark: null};
window.drumpad = api;

// -- noise --------------------------------------------------------------------------------

/** A seeded uniform generator in [0, 1) (mulberry32): each pad's base sound is fixed. */
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** latent_dim values of the model's noise: uniform in [-1, 1] or standard normal. */
function drawNoise(meta, random) {
  const z = new Float32Array(meta.latent_dim);
  for (let i = 0; i < z.length; i++) {
    if (meta.latent_distribution === "uniform") {
      z[i] = 2 * random() - 1;
    } else {  // Box-Muller
      const u = Math.max(random(), 1e-12);
      z[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    }
  }
  return z;
}

/** A point `amount` of the way from `base` to `fresh` that is still a draw of the
 * model's noise: linear for uniform noise (stays in [-1, 1]), on the circle
 * cos(a) base + sin(a) fresh for normal noise (keeps the variance). */
function vary(meta, base, fresh, amount) {
  const z = new Float32Array(base.length);
  if (meta.latent_distribution === "uniform") {
    for (let i = 0; i < z.length; i++) z[i] = (1 - amount) * base[i] + amount * fresh[i];
  } else {
    const a = amount * Math.PI / 2;
    for (let i = 0; i < z.length; i++) z[i] = Math.cos(a) * base[i] + Math.sin(a) * fresh[i];
  }
  return z;
}

// -- WAV --------------------------------------------------------------------------------

/** 16-bit PCM mono WAV bytes of float samples in [-1, 1]. */
function encodeWav(samples, rate) {
  const buffer = new ArrayBuffer(44 + 2 * samples.length);
  const view = new DataView(buffer);
  const text = (offset, s) => [...s].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + 2 * samples.length, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);          // PCM
  view.setUint16(22, 1, true);          // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, 2 * rate, true);   // bytes per second
  view.setUint16(32, 2, true);          // bytes per frame
  view.setUint16(34, 16, true);         // bits per sample
  text(36, "data");
  view.setUint32(40, 2 * samples.length, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + 2 * i, Math.round(s * 32767), true);
  }
  return new Blob([buffer], {type: "audio/wav"});
}

// -- sound ------------------------------------------------------------------------------

let audioContext = null;

/** Plays float samples at `rate` Hz; false when the browser has no audio output. */
function play(samples, rate) {
  try {
    audioContext = audioContext || new AudioContext();
    const buffer = audioContext.createBuffer(1, samples.length, rate);
    buffer.copyToChannel(samples, 0);
    const source = audioContext.createBufferSource();
    source.buffer = buffer;
    source.connect(audioContext.destination);
    source.start();
    return true;
  } catch (error) {
    console.warn("cannot play:", error);
    return false;
  }
}

function drawScope(samples) {
  const canvas = $("scope");
  const g = canvas.getContext("2d");
  const {width, height} = canvas;
  g.clearRect(0, 0, width, height);
  g.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--accent");
  g.beginPath();
  const step = samples.length / width;
  for (let x = 0; x < width; x++) {
    let lo = 1, hi = -1;
    for (let i = Math.max(0, Math.floor(x * step) - 1); i < Math.floor((x + 1) * step); i++) {
      lo = Math.min(lo, samples[i]);
      hi = Math.max(hi, samples[i]);
    }
    g.moveTo(x + .5, (1 - hi) * height / 2);
    g.lineTo(x + .5, (1 - lo) * height / 2 + 1);
  }
  g.stroke();
}

// -- the model ----------------------------------------------------------------------------

async function main() {
  const response = await fetch(MODEL + ".json");
  if (!response.ok) throw new Error(`cannot read ${MODEL}.json (${response.status})`);
  const meta = await response.json();
  const spec = meta.signatures[SIGNATURE];
  if (!spec) throw new Error(`${MODEL} has no ${SIGNATURE} signature`);
  const conditional = "label" in spec.inputs;

  await loadLiteRt(new URL("./litertjs/wasm/", location.href).href);
  const model = await loadAndCompile(MODEL, {accelerator: ACCELERATOR});
  const runner = model.signatures[SIGNATURE];

  /** One sound: (label, z Float32Array[latent_dim]) -> {samples, rate, ms}. */
  async function generate(label, z) {
    if (conditional && !(Number.isInteger(label) && label >= 0 && label < meta.num_classes)) {
      throw new RangeError(`label ${label} is not a class of this model: ` +
                           `0 to ${meta.num_classes - 1} (${meta.class_names.join(", ")})`);
    }
    const inputs = {z: new Tensor(Float32Array.from(z), [1, meta.latent_dim])};
    if (conditional) inputs.label = new Tensor(new Int32Array([label]), [1]);
    const start = performance.now();
    const outputs = await runner.run(inputs);
    const samples = Float32Array.from(outputs.waveform.toTypedArray());
    const rate = outputs.sample_rate.toTypedArray()[0];
    const ms = performance.now() - start;
    for (const tensor of [...Object.values(inputs), ...Object.values(outputs)]) tensor.delete();
    return {samples, rate, ms};
  }

  /** `count` sounds in a row (after one warm-up): their generation times in ms. */
  async function benchmark(count = 20, label = 0) {
    const random = seededRandom(12345);
    await generate(label, drawNoise(meta, random));
    const times = [];
    for (let i = 0; i < count; i++) times.push((await generate(label, drawNoise(meta, random))).ms);
    return times;
  }

  const names = conditional ? meta.class_names : ["new sound"];
  const bases = names.map((_, i) => drawNoise(meta, seededRandom(1000 + i)));
  const fresh = seededRandom(Date.now() >>> 0);
  let lastUrl = null;

  async function hit(label, button) {
    button.classList.add("hit");
    setTimeout(() => button.classList.remove("hit"), 120);
    const amount = Number($("variation").value);
    const z = vary(meta, bases[label], drawNoise(meta, fresh), amount);
    const {samples, rate, ms} = await generate(label, z);
    const played = play(samples, rate);
    drawScope(samples);
    if (lastUrl) URL.revokeObjectURL(lastUrl);
    lastUrl = URL.createObjectURL(encodeWav(samples, rate));
    const link = $("download");
    link.href = lastUrl;
    link.download = `${names[label].replace(/[^\w-]+/g, "_")}-${Date.now()}.wav`;
    link.classList.remove("disabled");
    link.removeAttribute("aria-disabled");
    $("replay").disabled = false;
    $("replay").onclick = () => play(samples, rate);
    $("status").textContent =
      `${names[label]}: generated in ${ms.toFixed(1)} ms (${ACCELERATOR}), ` +
      `${(samples.length / rate).toFixed(2)} s at ${rate} Hz`;
    api.last = {label, name: names[label], z: Array.from(z), samples: Array.from(samples),
                rate, ms, played, variation: amount};
  }

  const pads = $("pads");
  names.forEach((name, label) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pad";
    button.dataset.label = String(label);
    button.innerHTML = `<span></span>${label < 9 ? `<kbd>${label + 1}</kbd>` : ""}`;
    button.firstChild.textContent = name;
    button.addEventListener("click", () => hit(label, button).catch(fail));
    pads.append(button);
  });
  document.addEventListener("keydown", (event) => {
    const index = Number(event.key) - 1;
    if (index >= 0 && index < Math.min(9, names.length)) pads.children[index].click();
  });
  $("variation").addEventListener("input", () => {
    $("variation-value").value = Number($("variation").value).toFixed(2);
  });

  const seconds = (meta.slice_length / meta.sample_rate).toFixed(2);
  $("model-info").textContent =
    `${meta.model_name}: ${conditional ? `${names.length} classes` : "unconditional"}, ` +
    `${seconds} s sounds at ${meta.sample_rate} Hz, ` +
    `${meta.griffin_lim.iterations} Griffin-Lim iterations, ${meta.artifact.quantize || "float32"}`;
  Object.assign(api, {ready: true, meta, generate, benchmark});
  document.body.dataset.ready = "true";
}

function fail(error) {
  console.error(error);
  $("status").textContent = `Error: ${error.message || error}`;
  document.body.dataset.error = String(error.message || error);
}

main().catch(fail);

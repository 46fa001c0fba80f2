// Copies the LiteRT.js runtime that `npm install` put in node_modules/ into the page's
// folder inside the Python package (keras_soundgan/export/web_page/litertjs/), so that
// `keras-soundgan export RUN --format web` can write a working page with nothing but
// the pip-installed package. `node vendor.mjs --check` only compares the two.
//
// Only what the page loads is copied: the ES module of @litertjs/core and of its wasm
// loader, and the two single-threaded WebAssembly builds (relaxed SIMD, and "compat" for
// browsers without it); the threaded and JSPI builds are left out (the page uses neither).
import {createHash} from "node:crypto";
import {copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync} from "node:fs";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "..", "keras_soundgan", "export", "web_page", "litertjs");
const files = {
  "core/index.js": "@litertjs/core/dist/index.js",
  "wasm-utils/index.js": "@litertjs/wasm-utils/dist/index.js",
  "wasm/litert_wasm_internal.js": "@litertjs/core/wasm/litert_wasm_internal.js",
  "wasm/litert_wasm_internal.wasm": "@litertjs/core/wasm/litert_wasm_internal.wasm",
  "wasm/litert_wasm_compat_internal.js": "@litertjs/core/wasm/litert_wasm_compat_internal.js",
  "wasm/litert_wasm_compat_internal.wasm": "@litertjs/core/wasm/litert_wasm_compat_internal.wasm",
};
const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const version = JSON.parse(
  readFileSync(join(here, "node_modules", "@litertjs", "core", "package.json"), "utf8")).version;

const check = process.argv.includes("--check");
let differ = 0;
const manifest = {package: "@litertjs/core", version, license: "Apache-2.0", files: {}};
for (const [name, source] of Object.entries(files)) {
  const from = join(here, "node_modules", source);
  const to = join(target, name);
  manifest.files[name] = sha256(from);
  if (check) {
    if (!existsSync(to) || sha256(to) !== manifest.files[name]) {
      console.log(`differs: ${name}`);
      differ++;
    }
  } else {
    mkdirSync(dirname(to), {recursive: true});
    copyFileSync(from, to);
  }
}
if (!check) {
  writeFileSync(join(target, "MANIFEST.json"), JSON.stringify(manifest, null, 2) + "\n");
  console.log(`vendored @litertjs/core ${version} into ${target}`);
} else {
  console.log(differ ? `${differ} file(s) differ` : `vendored files match @litertjs/core ${version}`);
  process.exit(differ ? 1 : 0);
}

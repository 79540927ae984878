// SPDX-License-Identifier: MIT
// Validates Kubernetes objects offline against the Kubernetes OpenAPI schemas
// (kubernetes-models' .validate(), no API server). Reads a JSON array of
// objects on stdin; prints one JSON line per object: {kind, name, errors}.
//
// The OpenAPI schemas allow unknown fields, so a misspelt `hostPid` would
// pass; the API server rejects it (strict field validation, the kubectl
// default since 1.27). strictFields() closes that gap by walking the object
// along the model's TypeScript declarations, which list every field.
"use strict";

const fs = require("fs");
const path = require("path");

const MODELS = path.dirname(require.resolve("kubernetes-models/package.json"));
const APIMACHINERY = path.dirname(require.resolve("@kubernetes-models/apimachinery/package.json"));

function modelPath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return path.join(MODELS, group, version, kind);
}

// interface name → { fields: {name: type text}, imports: {Type: file} }
const declCache = new Map();
function readDecl(file) {
  if (declCache.has(file)) return declCache.get(file);
  let text;
  try {
    text = fs.readFileSync(file + ".d.ts", "utf8");
  } catch {
    declCache.set(file, null);
    return null;
  }
  const imports = {};
  for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) {
    const from = m[2].startsWith(".") ? path.resolve(path.dirname(file), m[2])
      : m[2].startsWith("@kubernetes-models/apimachinery/")
        ? path.join(APIMACHINERY, m[2].slice("@kubernetes-models/apimachinery/".length)) : null;
    if (from) imports[m[1]] = from;
  }
  const body = text.match(/export interface \w+(?: extends [\w, ]+)? \{([\s\S]*?)\n\}/);
  let fields = null;
  if (body) {
    fields = {};
    // one field per line at the interface's indentation; a map type ("{")
    // continues on the next lines and is a leaf here
    for (const m of body[1].matchAll(/^ {4}"([^"]+)"\??: ([^\n]*?);?$/gm)) fields[m[1]] = m[2];
  }
  const decl = { fields, imports };
  declCache.set(file, decl);
  return decl;
}

// Unknown fields of obj, as JSON-pointer-like paths.
function strictFields(obj, file, where, out) {
  const decl = readDecl(file);
  if (!decl || !decl.fields || typeof obj !== "object" || obj === null) return;
  for (const [key, value] of Object.entries(obj)) {
    const type = decl.fields[key];
    if (type === undefined) {
      out.push(`${where}/${key}: unknown field`);
      continue;
    }
    const arr = type.match(/^Array<(\w+)>$/);
    const name = arr ? arr[1] : type;
    const next = decl.imports[name];
    if (!next) continue; // a scalar, a map or an alias (Quantity, IntOrString)
    if (arr && Array.isArray(value)) value.forEach((v, i) => strictFields(v, next, `${where}/${key}/${i}`, out));
    else if (!arr) strictFields(value, next, `${where}/${key}`, out);
  }
}

function validate(obj) {
  const file = modelPath(obj.apiVersion || "", obj.kind || "");
  let Model;
  try {
    Model = require(file)[obj.kind];
  } catch {
    return [`no model for ${obj.apiVersion} ${obj.kind}`];
  }
  const errors = [];
  try {
    new Model(obj).validate();
  } catch (e) {
    errors.push(...String(e.message).split(", "));
  }
  strictFields(obj, file, "", errors);
  return errors;
}

const objects = JSON.parse(fs.readFileSync(0, "utf8"));
for (const obj of objects) {
  const name = obj.metadata && obj.metadata.name;
  console.log(JSON.stringify({ kind: obj.kind, name, errors: validate(obj) }));
}

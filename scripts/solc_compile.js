#!/usr/bin/env node
// Run npm's pinned solcjs on a Solidity standard-JSON input read from stdin and print the
// standard-JSON output. Imports resolve against the project root, then node_modules
// (`@openzeppelin/...`), so no compiler or source is ever downloaded.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const solc = require(path.join(root, 'node_modules', 'solc'));
// Project sources resolve from WALLETNET_SOURCE_ROOT (a copy, in tests) or the project itself.
const sourceRoot = path.resolve(process.env.WALLETNET_SOURCE_ROOT || root);

function findImports(importPath) {
  for (const base of [sourceRoot, path.join(root, 'node_modules')]) {
    const full = path.resolve(base, importPath);
    if (!full.startsWith(base + path.sep)) continue; // no escaping the search roots
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
  }
  return { error: `File not found: ${importPath}` };
}

if (process.argv[2] === '--version') {
  process.stdout.write(solc.version() + '\n');
  process.exit(0);
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));

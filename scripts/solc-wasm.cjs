#!/usr/bin/env node
// A native-solc lookalike over the npm `solc` package (the official compiler built to
// WebAssembly), so py-solc-x and forge can use it where no native solc can be installed.
// Answers `--version` and `--standard-json` (stdin -> stdout) with --base-path,
// --include-path and --allow-paths, the subset both callers use.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

function fail(message) {
  process.stderr.write(`solc-wasm: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { mode: null, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--version': case '-v': opts.mode = 'version'; break;
      case '--standard-json': opts.mode = 'standard-json'; break;
      case '--base-path': opts.basePath = value(); break;
      case '--include-path': opts.includePaths.push(value()); break;
      case '--allow-paths': opts.allowPaths.push(...value().split(',').filter(Boolean)); break;
      case '--no-color': case '--pretty-json': case '--json-indent': break;
      default: fail(`unsupported argument ${arg}: only --version and --standard-json are provided`);
    }
  }
  return opts;
}

function importResolver(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths].map((p) => path.resolve(p));
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(p))];
  const isAllowed = (file) => allowed.some((dir) => file === dir || file.startsWith(dir + path.sep));
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
    for (const file of candidates) {
      if (isAllowed(path.resolve(file)) && fs.existsSync(file)) {
        return { contents: fs.readFileSync(file, 'utf8') };
      }
    }
    return { error: `File not found inside the allowed paths: ${importPath}` };
  };
}

const opts = parseArgs(process.argv.slice(2));
if (opts.mode === 'version') {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
} else if (opts.mode === 'standard-json') {
  const input = fs.readFileSync(0, 'utf8');
  process.stdout.write(solc.compile(input, { import: importResolver(opts) }) + '\n');
} else {
  fail('expected --version or --standard-json');
}

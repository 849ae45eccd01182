#!/usr/bin/env node
"use strict";
// CommonJS on purpose (bin/package.json): the bundled entry starts without the ES-module loader.
require("../dist/cli.bundle.cjs").main(process.argv);

import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandPrefix } from "../../src/invocation.js";

/** A package laid out as npm installs it globally: <prefix>/lib/node_modules/crm-lead-setup, linked from <prefix>/bin. */
function globalInstall(): { bin: string; binDir: string; link: string } {
  const prefix = mkdtempSync(join(tmpdir(), "cls-prefix-"));
  const packageBin = join(prefix, "lib", "node_modules", "crm-lead-setup", "bin");
  mkdirSync(packageBin, { recursive: true });
  const bin = join(packageBin, "crm-lead-setup.js");
  writeFileSync(bin, "");
  const binDir = join(prefix, "bin");
  mkdirSync(binDir);
  const link = join(binDir, "crm-lead-setup");
  symlinkSync(bin, link);
  return { bin, binDir, link };
}

describe.skipIf(process.platform === "win32")("the command the user types", () => {
  it("is the bare name when that name on PATH is this bin (a global install, started through its link)", () => {
    const { binDir, link } = globalInstall();
    expect(commandPrefix({ env: { PATH: ["/usr/bin", binDir].join(delimiter) }, binPath: link })).toBe("crm-lead-setup");
  });

  it("is npx from a clone or a project's dependency: nothing on PATH, or another install there", () => {
    const here = globalInstall();
    const other = globalInstall();
    expect(commandPrefix({ env: { PATH: "/usr/bin" }, binPath: here.bin })).toBe("npx crm-lead-setup");
    expect(commandPrefix({ env: { PATH: other.binDir }, binPath: here.bin })).toBe("npx crm-lead-setup");
    expect(commandPrefix({ env: {}, binPath: undefined })).toBe("npx crm-lead-setup");
  });

  it("is npx under npx or npm exec, whose own node_modules/.bin is on the PATH only for this run", () => {
    const { binDir, link } = globalInstall();
    expect(commandPrefix({ env: { PATH: binDir, npm_command: "exec" }, binPath: link })).toBe("npx crm-lead-setup");
  });
});

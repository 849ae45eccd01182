import type { CommandSpec } from "../command.js";
import { command as init } from "./init.js";
import { command as downloadSolution } from "./download-solution.js";
import { command as importSolution } from "./import-solution.js";
import { command as createUser } from "./create-user.js";
import { command as createApp } from "./create-app.js";
import { command as assignRole } from "./assign-role.js";
import { command as patchRole } from "./patch-role.js";
import { command as resetPassword } from "./reset-password.js";
import { command as verify } from "./verify.js";
import { command as connectOffer } from "./connect-offer.js";
import { command as teardown } from "./teardown.js";
import { command as status } from "./status.js";
import { command as login } from "./login.js";
import { command as logout } from "./logout.js";
import { command as sandbox } from "./sandbox.js";

/**
 * Every command, in the order `--help` lists them. Each is declared whole in its own file (help, options,
 * prompts, steps); this list is all the CLI shell knows about them. (command-steps.ts is not a command: it
 * builds the step inputs that several commands share.)
 */
export const COMMANDS: readonly CommandSpec[] = [
  init,
  downloadSolution,
  importSolution,
  createUser,
  createApp,
  assignRole,
  patchRole,
  resetPassword,
  verify,
  connectOffer,
  teardown,
  status,
  login,
  logout,
  sandbox,
];

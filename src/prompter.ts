import { InterruptedError, UsageError } from "./errors.js";
import type { IO } from "./io.js";
import { shortenInput } from "./validate.js";

/**
 * Questions, behind an interface so commands never touch the prompt library. Prompts go to stderr (stdout
 * carries results), and Ctrl+C at a question is a clean exit 130, not a stack trace. Callers ask only when
 * `io.canPrompt`: the prompt library cannot tell a missing terminal reliably (reference: anchors §5.1).
 */
export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
}

export interface Prompter {
  input(message: string, options?: { default?: string; validate?: (value: string) => string | true }): Promise<string>;
  select<T>(message: string, choices: Choice<T>[], defaultValue?: T): Promise<T>;
  /** Several of a list, or none (Enter with nothing selected). */
  checkbox<T>(message: string, choices: Choice<T>[]): Promise<T[]>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
  /** Hidden input: what is typed is not echoed. */
  secret(message: string): Promise<string>;
}

/**
 * A confirmation's answer: yes or no in full or by initial, any case; Enter alone is the default. Anything
 * else is no answer at all and is asked again (SPEC §3): @inquirer/prompts' `confirm` takes every answer
 * that is not a yes as a no (and "x" at a default of Yes as a yes), which once let a typo delete the user.
 */
export function parseYesNo(answer: string, defaultValue: boolean): boolean | undefined {
  const word = answer.trim().toLowerCase();
  if (word === "") return defaultValue;
  if (word === "y" || word === "yes") return true;
  if (word === "n" || word === "no") return false;
  return undefined;
}

/** Turns an option validator (which throws a UsageError) into a prompt validator (which returns the message). */
export function promptValidator(parse: (raw: string) => unknown): (value: string) => string | true {
  return (value) => {
    try {
      parse(value);
      return true;
    } catch (error) {
      return error instanceof UsageError ? `${error.message}${error.hint ? ` ${error.hint}` : ""}` : String(error);
    }
  };
}

function emptyMeansDefault(options: { default?: string; validate?: (value: string) => string | true }): (value: string) => string | true {
  return (value) => (value === "" && options.default !== undefined ? true : (options.validate?.(value) ?? true));
}

export async function inquirerPrompter(io: IO, signal: AbortSignal): Promise<Prompter> {
  const prompts = await import("@inquirer/prompts");
  const context = { input: io.streams.stdin, output: io.streams.stderr, signal };
  const guard = async <T>(ask: () => Promise<T>): Promise<T> => {
    try {
      return await io.whileAsking(ask);
    } catch (error) {
      const name = (error as Error).name;
      if (name === "ExitPromptError" || name === "AbortPromptError")
        throw new InterruptedError("Cancelled at a question; nothing was changed.");
      throw error;
    }
  };
  /**
   * A question other than the confirmation is erased when it ends, answered or not, so that Ctrl+C leaves
   * no half-drawn list behind; an answer is then written back as one line.
   */
  const question = async <T>(message: string, ask: (questionContext: object) => Promise<T>, shown: (answer: T) => string): Promise<T> => {
    const answer = await guard(() => ask({ ...context, clearPromptOnDone: true }));
    io.err(`${io.style.green("✔")} ${io.style.bold(message)} ${io.style.cyan(shown(answer))}`);
    return answer;
  };
  return {
    input: (message, options = {}) =>
      question(
        message,
        // The prompt library forgets its default once Backspace is pressed on an empty line (e.g. after
        // clearing a refused answer): an empty answer still means the default here.
        async (questionContext) =>
          (await prompts.input({ message, default: options.default, validate: emptyMeansDefault(options) }, questionContext as never)) ||
          (options.default ?? ""),
        // What was typed is shown back shortened: a 5,000-character paste is not repeated whole.
        (answer) => shortenInput(answer),
      ),
    select: <T>(message: string, choices: Choice<T>[], defaultValue?: T) =>
      question(
        message,
        (questionContext) => prompts.select<T>({ message, choices, default: defaultValue, pageSize: 10 }, questionContext as never),
        (answer) => choices.find((c) => c.value === answer)?.name ?? String(answer),
      ),
    checkbox: <T>(message: string, choices: Choice<T>[]) =>
      question(
        message,
        (questionContext) => prompts.checkbox<T>({ message, choices, pageSize: 10 }, questionContext as never),
        (answer) =>
          answer.length === 0 ? "none" : answer.map((value) => choices.find((c) => c.value === value)?.name ?? String(value)).join(", "),
      ),
    confirm: async (message, defaultValue) => {
      const choices = defaultValue ? "(Y/n)" : "(y/N)";
      const answer = await guard(() =>
        prompts.input(
          {
            message,
            validate: (value: string) =>
              parseYesNo(value, defaultValue) === undefined ? `Answer yes or no (y or n; Enter for ${defaultValue ? "yes" : "no"}).` : true,
            // Once answered, the line reads like a confirm prompt's: the question and Yes or No.
            transformer: (value: string, { isFinal }: { isFinal: boolean }) =>
              isFinal ? io.style.cyan(parseYesNo(value, defaultValue) ? "Yes" : "No") : value,
            theme: {
              validationFailureMode: "clear",
              style: {
                message: (text: string, status: string) =>
                  status === "done" ? io.style.bold(text) : `${io.style.bold(text)} ${io.style.dim(choices)}`,
              },
            },
          },
          context as never,
        ),
      );
      return parseYesNo(answer, defaultValue)!;
    },
    secret: (message) =>
      guard(() =>
        prompts.password(
          { message, mask: "*", validate: (value: string) => (value.length > 0 ? true : "Enter a value.") },
          context as never,
        ),
      ),
  };
}

// The command line of the training recipes: one usage error for all of them (`npm run train` exits 2 on
// it, 1 on any other failure) and one parser that turns an unknown or malformed option into that error,
// naming the valid options, and answers --help with the recipe's usage line.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StreamError } from '../../src/engine/errors.ts';

/** A bad `npm run train` command line; the message names what is valid. */
export class TrainUsageError extends StreamError {
  constructor(message: string) {
    super(message, { stage: 'training', hint: 'npm run train -- <recipe> --help lists the options' });
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: false; strict: true }>
>;

/**
 * Parses a recipe's options (`command` prefixes the messages, e.g. "train cid"). With --help the usage
 * line is printed and the result is undefined; an unknown or malformed option is a {@link TrainUsageError}
 * listing the valid options.
 */
export function parseRecipeArgs<const O extends Options>(
  command: string,
  argv: string[],
  options: O,
  usage: string,
): Parsed<O> | undefined {
  if (argv.includes('--help')) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }) as Parsed<O>;
  } catch (e) {
    throw new TrainUsageError(
      `${command}: ${(e as Error).message.split('.')[0]}; valid options: ${Object.keys(options)
        .map((o) => `--${o}`)
        .join(', ')}`,
    );
  }
}

/** A mistake found in a service directory, reported to the user instead of thrown. */
export interface ConfigProblem {
  /** Absolute path of the file (or directory) the problem is about. */
  readonly file: string;
  /** 1-based line when the problem is about file content, else null. */
  readonly line: number | null;
  readonly message: string;
}

/** Renders a problem the way compilers do, so editors and terminals can jump to it. */
export function formatProblem(p: ConfigProblem): string {
  return p.line === null ? `${p.file}: ${p.message}` : `${p.file}:${p.line}: ${p.message}`;
}

/** Builds a ConfigProblem; `line` defaults to null (the problem is about the file, not a line). */
export function problem(file: string, message: string, line: number | null = null): ConfigProblem {
  return { file, line, message };
}

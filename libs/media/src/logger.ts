/** The logging surface the media layer needs (Nest's Logger and console both fit). */
export interface Logger {
  log(message: string): void;
  warn(message: string): void;
  error?(message: string): void;
  debug?(message: string): void;
}

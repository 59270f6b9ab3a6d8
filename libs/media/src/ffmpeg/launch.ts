import { limitedCommand } from './memory-limit';
import { type ChildLike, directLaunch, type Launch, Spawner } from './spawner';

/**
 * How this thread starts its children (directly, or through a spawner process: see spawner.ts for why), and the
 * registry of the children it started, so that none outlives the process.
 */

let launch: Launch = directLaunch;
/** How this thread starts children from now on: directly (the default) or through a Spawner (see spawner.ts). */
export function launchChildrenWith(l: Launch): void {
  launch = l;
}

/**
 * Starts a child the way this thread starts children (directly, or through its spawner): for one-shot jobs too. Every
 * child gets the memory bound `FFMPEG_MAX_MEMORY_MB` (see memory-limit.ts); its pid is the command's own.
 */
export const launchChild: Launch = (command, args, fds) => {
  const limited = limitedCommand(command, args);
  return launch(limited.command, limited.args, fds);
};

/**
 * Starts this thread's children through a spawner process from now on (see spawner.ts for why), falling back to
 * direct spawns if the spawner keeps dying. `MCU_SPAWNER=0` turns it off.
 */
export function useSpawner(logger?: { warn(m: string): void }): Spawner | undefined {
  if (process.env.MCU_SPAWNER === '0') return undefined;
  const spawner = new Spawner(logger);
  spawner.warm();
  launch = (command, args, fds) => (spawner.usable ? spawner.launch(command, args, fds) : directLaunch(command, args, fds));
  return spawner;
}

const live = new Set<ChildLike>();
let exitHookInstalled = false;
let observer: ((pid: number, alive: boolean) => void) | undefined;
/**
 * Tells `fn` about every child spawned here and its exit. A room worker thread reports them to the main thread,
 * which kills what is left if the thread dies (a thread's end does not end its children).
 */
export function observeChildren(fn: (pid: number, alive: boolean) => void): void {
  observer = fn;
}

/** Registers a started child (its pid known): reported to the observer, SIGKILLed if this process exits first. */
export function trackChild(child: ChildLike): void {
  if (live.has(child)) return;
  live.add(child);
  const pid = child.pid;
  if (pid !== undefined) observer?.(pid, true);
  child.once('exit', () => {
    live.delete(child);
    if (pid !== undefined) observer?.(pid, false);
  });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

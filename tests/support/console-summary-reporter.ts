/**
 * A vitest reporter that replaces the console output of passing tests with one summary line.
 * The fault-injection and fuzzing gates make functions fail on purpose (cut connections, timed
 * out providers, hostile input), and the functions log each failure with its stack; in a
 * passing run those are expected, so vitest (`silent: 'passed-only'` in tests/vitest.config.ts)
 * shows a test's console output only when the test fails, and this reporter says how much it
 * held back and where from.
 */
import type { Reporter, TestModule } from "vitest/node";

interface ConsoleLog {
  type: "stdout" | "stderr";
  taskId?: string;
}

export default class ConsoleSummaryReporter implements Reporter {
  private readonly byFolder = new Map<string, number>();
  private total = 0;
  private readonly taskFolders = new Map<string, string>();

  onTestModuleCollected(testModule: TestModule): void {
    const folder = testModule.moduleId.replace(/^.*\/tests\//, "tests/").split("/").slice(0, 2).join("/");
    for (const test of testModule.children.allTests()) this.taskFolders.set(test.id, folder);
    this.taskFolders.set(testModule.id, folder);
  }

  onUserConsoleLog(log: ConsoleLog): void {
    if (log.type !== "stderr") return;
    const folder = (log.taskId && this.taskFolders.get(log.taskId)) || "tests";
    this.byFolder.set(folder, (this.byFolder.get(folder) ?? 0) + 1);
    this.total += 1;
  }

  onTestRunEnd(): void {
    if (this.total === 0) return;
    const where = [...this.byFolder].sort((a, b) => b[1] - a[1]).map(([folder, n]) => `${folder} ${n}`).join(", ");
    process.stdout.write(
      `\nerror output of passing tests held back: ${this.total} (${where}) — the failures the fault-injection and fuzzing ` +
        "gates cause on purpose; a failing test shows its own. `npx vitest run --config tests/vitest.config.ts --silent=false <file>` under npm test's environment prints them all.\n",
    );
  }
}

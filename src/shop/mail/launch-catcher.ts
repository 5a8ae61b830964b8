// For `npm start`: runs the mail catcher (catcher.ts) as a child process and returns where the shop
// should send (SHOP_SMTP_URL) and where a person reads the mail (the inbox URL).
import { fork, type ChildProcess } from 'node:child_process';
import { runnable } from '../../platform/compiled.ts';

export interface LaunchedCatcher {
  readonly child: ChildProcess;
  readonly smtpUrl: string;
  readonly inboxUrl: string;
}

/** Starts the catcher on the ports in MAIL_CATCHER_SMTP_PORT / MAIL_CATCHER_HTTP_PORT (default: free ones). */
export async function launchCatcher(env: NodeJS.ProcessEnv): Promise<LaunchedCatcher> {
  const entry = await runnable('shop/mail/catcher.ts', env);
  const child = fork(entry.file, [], {
    env,
    execArgv: [...entry.execArgv],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // Ctrl-C reaches the launcher, which stops its children in order.
    detached: true,
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`the mail catcher exited (${signal ?? code}) before it was ready`)),
    );
    child.on('message', (m) => {
      const msg = m as { type?: string; smtpPort?: number; url?: string };
      if (msg.type === 'ready' && msg.url && msg.smtpPort)
        resolve({ child, smtpUrl: `smtp://127.0.0.1:${msg.smtpPort}`, inboxUrl: msg.url });
    });
  });
}

import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from '@slack/bolt';
import { publishHome } from '../src/slack/home.js';
import { eventListener } from '../src/slack/listener.js';
import type { CommandEnv } from './kit.js';

type HomeOpenedArgs = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

/** The App Home tab: published fresh whenever the person opens it (and by refreshHomes after changes). */
export function registerHome(app: App, { deps, notifier }: CommandEnv): void {
  app.event(
    'app_home_opened',
    eventListener<HomeOpenedArgs>(deps, 'app_home_opened', async (_rc, caller, args) => {
      if (args.event.tab !== 'home') return;
      await publishHome(deps, notifier, caller);
    }),
  );
}

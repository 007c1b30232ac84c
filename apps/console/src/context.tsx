import { createContext, useContext } from 'react';
import type { ApiClient } from './api/api.client';
import type { Session } from './api/types';

export interface ConsoleContext {
  api: ApiClient;
  session: Session;
}

export const Ctx = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useConsole outside the signed-in console');
  return ctx;
}

/** Structured logs (Powertools Logger): JSON lines with the function's context. */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({
  serviceName: 'scrm-hub',
  logLevel: (process.env.HUB_LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? (process.env.VITEST ? 'SILENT' : 'INFO')) as 'INFO',
});

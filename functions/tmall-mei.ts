/**
 * POST /tmall/mei/{appKey}: the Tmall 会员通 SPI (lib/apply/tmall-mei.ts), called by the Tmall
 * member centre through 奇门; off unless TMALL_MEI_SPI_ENABLED=true.
 */
import { inboundRequest, json } from '../lib/runtime/http.ts';
import { http } from '../lib/runtime/lambda.ts';
import { answerMeiSpi, MEI_MAX_BODY_BYTES } from '../lib/apply/tmall-mei.ts';

export const handler = http({ name: 'tmall-mei', maxBodyBytes: MEI_MAX_BODY_BYTES }, async (event, rt) => {
  const answer = await answerMeiSpi(inboundRequest(event, 'appKey', MEI_MAX_BODY_BYTES, rt.now()), { ...rt, store: rt.store });
  return json(answer.statusCode, answer.body);
});

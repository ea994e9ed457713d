/** Types for wechat-crypto 0.0.2 (node-webot), used only by the ingest benchmark. */
declare module 'wechat-crypto' {
  class WXBizMsgCrypt {
    constructor(token: string, encodingAESKey: string, id: string);
    token: string;
    id: string;
    key: Buffer;
    iv: Buffer;
    getSignature(timestamp: string, nonce: string, encrypt: string): string;
    decrypt(text: string): { message: string; id: string };
    encrypt(text: string): string;
  }
  export = WXBizMsgCrypt;
}

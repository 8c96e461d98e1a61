// kafkajs_common.js: shared setup for the kafkajs integration scripts: a Kafka client for one
// broker with the snappy and lz4 codecs registered (kafkajs-snappy, kafkajs-lz4; gzip is
// built in; kafkajs has no zstd without a native module), JSON encoding of records (bytes as
// base64, null kept), and a main() wrapper that exits 1 with the error on stderr.
'use strict'

const { Kafka, logLevel, CompressionTypes, CompressionCodecs } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const LZ4Codec = require('kafkajs-lz4')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec

const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4
}

function client (broker) {
  return new Kafka({
    clientId: 'sluice-it-kafkajs',
    brokers: [broker],
    logLevel: logLevel.ERROR,
    retry: { retries: 3, initialRetryTime: 100 },
    connectionTimeout: 5000,
    requestTimeout: 15000
  })
}

function b64 (buf) {
  return buf == null ? null : Buffer.from(buf).toString('base64')
}

function unb64 (s) {
  return s == null ? null : Buffer.from(s, 'base64')
}

function readStdin () {
  return new Promise((resolve, reject) => {
    const chunks = []
    process.stdin.on('data', (c) => chunks.push(c))
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    process.stdin.on('error', reject)
  })
}

function errorJson (e) {
  return {
    name: e && e.name,
    type: e && e.type,
    code: e && e.code,
    message: e && e.message,
    errors: e && Array.isArray(e.errors)
      ? e.errors.map((x) => ({ type: x.type, code: x.code, message: x.message })) : undefined
  }
}

function run (main) {
  const timer = setTimeout(() => {
    console.error('kafkajs script timed out')
    process.exit(3)
  }, Number(process.env.KAFKAJS_SCRIPT_TIMEOUT_MS || 60000))
  // main() resolves to the result; it is printed as one JSON line and the process exits once
  // stdout has drained (process.exit() right after a large write to a pipe truncates it).
  main().then((result) => {
    clearTimeout(timer)
    process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0))
  }).catch((e) => {
    console.error('kafkajs error: ' + (e && e.stack ? e.stack : e))
    process.exit(1)
  })
}

module.exports = { client, b64, unb64, readStdin, errorJson, run, CODECS, logLevel }

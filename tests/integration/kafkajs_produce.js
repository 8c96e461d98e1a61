// kafkajs_produce.js: produces records with kafkajs' producer and prints the send results.
// Usage: node kafkajs_produce.js HOST:PORT < spec.json
// spec: {"topic", "compression": "none|gzip|snappy|lz4", "acks": -1|0|1,
//        "batches": [[{"key": b64|null, "value": b64|null, "headers": {name: b64},
//                      "timestamp": "ms", "partition": n}, ...], ...]}
// Each batch is one producer.send() call. Output, one JSON line: [[{partition, baseOffset,
// errorCode}, ...] per batch].
'use strict'

const c = require('./kafkajs_common')

c.run(async () => {
  const spec = JSON.parse(await c.readStdin())
  const producer = c.client(process.argv[2]).producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    const out = []
    for (const batch of spec.batches) {
      const res = await producer.send({
        topic: spec.topic,
        acks: spec.acks,
        compression: c.CODECS[spec.compression],
        messages: batch.map((m) => {
          const headers = {}
          for (const [k, v] of Object.entries(m.headers || {})) headers[k] = c.unb64(v)
          return {
            key: c.unb64(m.key),
            value: c.unb64(m.value),
            headers,
            timestamp: m.timestamp,
            partition: m.partition
          }
        })
      })
      out.push(res.map((r) => ({
        partition: r.partition, baseOffset: r.baseOffset, errorCode: r.errorCode
      })))
    }
    return out
  } finally {
    await producer.disconnect()
  }
})

// kafkajs_fetch.js: reads records of one partition with kafkajs' own Fetch request code and
// record decoder (including decompression). kafkajs' public consumer needs the consumer group
// protocol, which sluice does not serve yet, so this drives kafkajs' cluster/broker objects
// directly: Metadata to find the leader, then Fetch (v11 against a broker offering it) in a loop.
// Usage: node kafkajs_fetch.js HOST:PORT TOPIC PARTITION OFFSET COUNT
// Output, one JSON line: {"errorCodes": [...non-zero partition errors...], "highWatermark",
//   "messages": [{offset, key, value, headers: {name: b64}, timestamp, attributes}]}
'use strict'

const c = require('./kafkajs_common')
const Cluster = require('kafkajs/src/cluster')
const { createLogger, LEVELS } = require('kafkajs/src/loggers')
const LoggerConsole = require('kafkajs/src/loggers/console')
const socketFactory = require('kafkajs/src/network/socketFactory')

c.run(async () => {
  const [broker, topic, partStr, offStr, countStr] = process.argv.slice(2)
  const partition = Number(partStr)
  const count = Number(countStr)
  const cluster = new Cluster({
    logger: createLogger({ level: LEVELS.ERROR, logCreator: LoggerConsole }),
    brokers: [broker],
    clientId: 'sluice-it-kafkajs-fetch',
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 2 },
    socketFactory: socketFactory(),
    offsets: new Map(),
    allowAutoTopicCreation: false
  })
  await cluster.connect()
  try {
    await cluster.addTargetTopic(topic)
    await cluster.refreshMetadata()
    const leaders = cluster.findLeaderForPartitions(topic, [partition])
    const leaderId = Object.keys(leaders)[0]
    const leader = await cluster.findBroker({ nodeId: leaderId })
    let offset = BigInt(offStr)
    const out = { errorCodes: [], highWatermark: null, messages: [] }
    const deadline = Date.now() + 45000
    while (out.messages.length < count && Date.now() < deadline) {
      const res = await leader.fetch({
        replicaId: -1,
        isolationLevel: 0,
        maxWaitTime: 200,
        minBytes: 1,
        maxBytes: 16 << 20,
        topics: [{
          topic,
          partitions: [{ partition, fetchOffset: offset.toString(), maxBytes: 8 << 20 }]
        }]
      })
      for (const t of res.responses) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) {
            out.errorCodes.push(p.errorCode)
            return out
          }
          out.highWatermark = p.highWatermark
          for (const m of p.messages) {
            if (m.isControlRecord || BigInt(m.offset) < offset) continue
            const headers = {}
            for (const [k, v] of Object.entries(m.headers || {})) {
              headers[k] = Array.isArray(v) ? v.map(c.b64) : c.b64(v)
            }
            out.messages.push({
              offset: m.offset,
              key: c.b64(m.key),
              value: c.b64(m.value),
              headers,
              timestamp: m.timestamp,
              attributes: m.batchContext ? m.batchContext.attributes : m.attributes
            })
            offset = BigInt(m.offset) + 1n
          }
        }
      }
    }
    return out
  } finally {
    await cluster.disconnect()
  }
})

// kafkajs_admin.js: runs a list of kafkajs admin operations and prints each result.
// Usage: node kafkajs_admin.js HOST:PORT < ops.json
// ops: [{"op": "create", "topics": [{topic, numPartitions, replicationFactor, configEntries}],
//        "validateOnly": bool} | {"op": "delete", "topics": [...]} | {"op": "list"} |
//       {"op": "metadata", "topics": [...]} | {"op": "offsets", "topic"} |
//       {"op": "offsetsByTime", "topic", "timestamp"} | {"op": "describeConfigs", "topic"} |
//       {"op": "alterConfigs", "topic", "configs": {name: value}}, ...]
// Output, one JSON line: [{"ok": true, "value": ...} | {"ok": false, "error": {...}}, ...]
'use strict'

const c = require('./kafkajs_common')
const { ConfigResourceTypes } = require('kafkajs')

async function runOp (admin, o) {
  switch (o.op) {
    case 'create':
      return await admin.createTopics({
        topics: o.topics, validateOnly: !!o.validateOnly, waitForLeaders: true, timeout: 10000
      })
    case 'delete':
      return await admin.deleteTopics({ topics: o.topics, timeout: 10000 })
    case 'list':
      return await admin.listTopics()
    case 'metadata':
      return await admin.fetchTopicMetadata({ topics: o.topics })
    case 'offsets':
      return await admin.fetchTopicOffsets(o.topic)
    case 'offsetsByTime':
      return await admin.fetchTopicOffsetsByTimestamp(o.topic, o.timestamp)
    case 'describeConfigs': {
      const r = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: o.topic }], includeSynonyms: false
      })
      const res = r.resources[0]
      const entries = {}
      for (const e of res.configEntries) entries[e.configName] = e.configValue
      return { errorCode: res.errorCode, entries }
    }
    case 'alterConfigs': {
      const r = await admin.alterConfigs({
        validateOnly: false,
        resources: [{
          type: ConfigResourceTypes.TOPIC,
          name: o.topic,
          configEntries: Object.entries(o.configs).map(([name, value]) => ({ name, value }))
        }]
      })
      return r.resources.map((x) => ({ errorCode: x.errorCode }))
    }
    default:
      throw new Error('unknown op ' + o.op)
  }
}

c.run(async () => {
  const ops = JSON.parse(await c.readStdin())
  const admin = c.client(process.argv[2]).admin()
  await admin.connect()
  try {
    const out = []
    for (const o of ops) {
      try {
        out.push({ ok: true, value: await runOp(admin, o) })
      } catch (e) {
        out.push({ ok: false, error: c.errorJson(e) })
      }
    }
    return out
  } finally {
    await admin.disconnect()
  }
})

// kafkajs_cluster.js: kafkajs against a multi-node Sluice cluster (test_cluster_kafkajs.py).
// One Kafka client bootstrapped from ONE broker (argv[2]); kafkajs learns the other brokers
// from Metadata and sends each request where it belongs (admin create/delete to the broker
// Metadata names as controller, produce to each partition's leader).
// Usage: node kafkajs_cluster.js HOST:PORT < ops.json
// ops: [{"op": "describeCluster"} | {"op": "create", "topics": [{topic, numPartitions}]} |
//       {"op": "metadata", "topics": [...]} | {"op": "list"} | {"op": "delete", "topics": [...]} |
//       {"op": "produce", "topic", "acks", "guardMs", "batches": [[{partition, key, value}]]} |
//       {"op": "touch", "path"} | {"op": "waitFile", "path", "guardMs"}]
// touch creates a file and waitFile waits until one exists: the test synchronises with the
// script through them (warm the client up, tell the test, wait for it to kill a broker).
// A produce op makes one producer.send() per batch (keys and values are UTF-8 strings) and
// gives up after guardMs (reported as {"timedOut": true}); its value is [[{partition,
// baseOffset, errorCode}] per batch].
// Output, one JSON line: [{"ok": true, "value": ...} | {"ok": false, "error": {name,
// retriable, type, code, message, cause: {...}}} | {"ok": false, "timedOut": true}, ...]
'use strict'

const fs = require('fs')
const c = require('./kafkajs_common')

// The error and its causes (KafkaJSNumberOfRetriesExceeded wraps the last retriable error).
function errorChain (e, depth = 0) {
  if (!e || depth > 4) return null
  return {
    name: e.name,
    retriable: e.retriable,
    type: e.type,
    code: e.code,
    message: e.message,
    cause: errorChain(e.cause || e.originalError, depth + 1)
  }
}

async function waitFile (path) {
  while (!fs.existsSync(path)) await new Promise((resolve) => setTimeout(resolve, 20))
  return true
}

function withGuard (promise, ms) {
  let timer
  const guard = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, timedOut: true }), ms)
  })
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer))
}

async function produce (producer, o) {
  const out = []
  for (const batch of o.batches) {
    const res = await producer.send({
      topic: o.topic,
      acks: o.acks,
      timeout: 5000,
      messages: batch.map((m) => ({ key: m.key, value: m.value, partition: m.partition }))
    })
    out.push(res.map((r) => ({
      partition: r.partition, baseOffset: r.baseOffset, errorCode: r.errorCode
    })))
  }
  return out
}

c.run(async () => {
  const ops = JSON.parse(await c.readStdin())
  const kafka = c.client(process.argv[2])
  let admin = null
  let producer = null
  const useAdmin = async () => {
    if (!admin) {
      admin = kafka.admin()
      await admin.connect()
    }
    return admin
  }
  const useProducer = async () => {
    if (!producer) {
      producer = kafka.producer({ allowAutoTopicCreation: false })
      await producer.connect()
    }
    return producer
  }
  const runOp = async (o) => {
    switch (o.op) {
      case 'describeCluster':
        return await (await useAdmin()).describeCluster()
      case 'create':
        return await (await useAdmin()).createTopics({
          topics: o.topics, waitForLeaders: true, timeout: 15000
        })
      case 'metadata':
        return await (await useAdmin()).fetchTopicMetadata({ topics: o.topics })
      case 'list':
        return await (await useAdmin()).listTopics()
      case 'delete':
        return await (await useAdmin()).deleteTopics({ topics: o.topics, timeout: 15000 })
      case 'produce':
        return await produce(await useProducer(), o)
      case 'touch':
        fs.writeFileSync(o.path, '')
        return true
      case 'waitFile':
        return await waitFile(o.path)
      default:
        throw new Error('unknown op ' + o.op)
    }
  }
  try {
    const out = []
    for (const o of ops) {
      const attempt = runOp(o).then((value) => ({ ok: true, value }),
        (e) => ({ ok: false, error: errorChain(e) }))
      out.push(await withGuard(attempt, o.guardMs || 30000))
    }
    return out
  } finally {
    // A send given up on by the guard may still be retrying: do not wait for it forever.
    await withGuard(Promise.all([admin && admin.disconnect(), producer && producer.disconnect()]),
      5000)
  }
})

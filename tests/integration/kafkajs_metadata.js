// kafkajs_metadata.js: asks a broker for cluster and topic metadata with kafkajs (2.2.4) and
// prints one JSON line: {"clusterId", "controller", "brokers": [{nodeId, host, port}],
// "topics": [...], "listTopics": [...]}. Exit code 0 on success, 1 on any error.
// Usage: node kafkajs_metadata.js HOST:PORT
'use strict'

const { Kafka, logLevel } = require('kafkajs')

async function main () {
  const broker = process.argv[2]
  if (!broker) {
    console.error('usage: node kafkajs_metadata.js HOST:PORT')
    process.exit(2)
  }
  const kafka = new Kafka({
    clientId: 'sluice-it-kafkajs',
    brokers: [broker],
    logLevel: logLevel.ERROR,
    retry: { retries: 2 },
    connectionTimeout: 5000,
    requestTimeout: 10000
  })
  const admin = kafka.admin()
  await admin.connect()
  try {
    const cluster = await admin.describeCluster()
    const meta = await admin.fetchTopicMetadata()
    const names = await admin.listTopics()
    console.log(JSON.stringify({
      clusterId: cluster.clusterId,
      controller: cluster.controller,
      brokers: cluster.brokers,
      topics: meta.topics,
      listTopics: names
    }))
  } finally {
    await admin.disconnect()
  }
}

main().catch((e) => {
  console.error('kafkajs error: ' + (e && e.stack ? e.stack : e))
  process.exit(1)
})

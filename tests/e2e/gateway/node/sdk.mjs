// The official Node.js `openai` SDK against a releasegate gateway.
// Usage: node sdk.mjs <scenario> <base URL>   (prints one JSON object on stdout)
// Scenarios: plain, stream, tools, cut. The Python test scripts the mock upstream first.
import OpenAI from "openai";

const [scenario, baseURL] = process.argv.slice(2);
const client = new OpenAI({
  baseURL,
  apiKey: "unused",
  maxRetries: 0,
  defaultHeaders: { "X-Releasegate-Unit": `node-${scenario}` },
});
const messages = [{ role: "user", content: "hello from node" }];
const tools = [
  {
    type: "function",
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  },
];

async function plain() {
  const { data, response } = await client.chat.completions
    .create({ model: "chat", messages })
    .withResponse();
  return {
    content: data.choices[0].message.content,
    version: response.headers.get("x-releasegate-version"),
    servedModel: response.headers.get("x-releasegate-served-model"),
    requestId: response.headers.get("x-request-id"),
    usage: data.usage,
  };
}

async function stream() {
  const chunks = await client.chat.completions.create({
    model: "chat",
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  const last = { choices: null, usage: null };
  let finish = null;
  for await (const chunk of chunks) {
    if (chunk.choices.length) {
      text += chunk.choices[0].delta.content ?? "";
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    last.choices = chunk.choices;
    last.usage = chunk.usage ?? null;
  }
  return { text, finish, lastChoices: last.choices, lastUsage: last.usage };
}

async function tools_() {
  const chunks = await client.chat.completions.create({
    model: "chat",
    messages: [{ role: "user", content: "weather?" }],
    tools,
    stream: true,
    stream_options: { include_usage: true },
  });
  const ids = new Set();
  const names = new Set();
  let args = "";
  let finish = null;
  let lastChoices = null;
  for await (const chunk of chunks) {
    lastChoices = chunk.choices;
    for (const choice of chunk.choices) {
      finish = choice.finish_reason ?? finish;
      for (const call of choice.delta.tool_calls ?? []) {
        if (call.id) ids.add(call.id);
        if (call.function?.name) names.add(call.function.name);
        args += call.function?.arguments ?? "";
      }
    }
  }
  // The SDK's own accumulator must rebuild the same call from the deltas.
  const again = await client.chat.completions
    .stream({ model: "chat", messages: [{ role: "user", content: "weather?" }], tools })
    .finalChatCompletion();
  const call = again.choices[0].message.tool_calls[0];
  return {
    ids: [...ids],
    names: [...names],
    args,
    finish,
    lastChoices,
    accumulated: { id: call.id, name: call.function.name, arguments: call.function.arguments },
  };
}

async function cut() {
  const chunks = await client.chat.completions.create({ model: "chat", messages, stream: true });
  let received = 0;
  try {
    for await (const chunk of chunks) {
      received += chunk.choices.length ? 1 : 0;
    }
  } catch (err) {
    return { received, error: err.constructor.name, message: String(err.message) };
  }
  return { received, error: null };
}

const run = { plain, stream, tools: tools_, cut }[scenario];
if (!run) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
console.log(JSON.stringify(await run()));

// End-to-end test of `xpusim serve` on loopback: starts the CLI binary, drives it with an HTTP client (cpp-
// httplib), curl and the `openai` Python package when available, including concurrent and streaming requests
// and abrupt disconnects (whose KV must be freed at once). Skipped with a reason when the real SmolLM2 GGUF
// is not in the model cache.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "serving/http_test_env.h"

namespace {

using xpusim::test::http_tests_skipped_here;
using xpusim::test::kSlowdown;

using nlohmann::json;
namespace fs = std::filesystem;

fs::path model_file() {
  const char* dir = std::getenv("XPUSIM_MODEL_DIR");
  const char* home = std::getenv("HOME");
  fs::path base = dir ? fs::path(dir) : fs::path(home ? home : "/root") / ".cache/xpusim/models";
  return base / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf";
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(model_file()) || http_tests_skipped_here()) return;
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    s_pid = fork();
    ASSERT_GE(s_pid, 0);
    if (s_pid == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      execl(XPUSIM_BINARY, XPUSIM_BINARY, "serve", "--model", "smollm2-135m", "--port", "0", "--threads", "1",
            "--max-requests", "16", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    FILE* stream = fdopen(out[0], "r");
    char line[1024];
    while (std::fgets(line, sizeof line, stream)) {
      const char* at = std::strstr(line, "listening on http://127.0.0.1:");
      if (at) {
        s_port = std::atoi(at + std::strlen("listening on http://127.0.0.1:"));
        break;
      }
    }
    s_stdout = stream;  // kept open so the server never writes into a closed pipe
  }
  static void TearDownTestSuite() {
    if (s_pid > 0) {
      kill(s_pid, SIGTERM);
      int status = 0;
      waitpid(s_pid, &status, 0);
    }
    if (s_stdout) std::fclose(s_stdout);
  }
  void SetUp() override {
    if (http_tests_skipped_here()) GTEST_SKIP() << xpusim::test::kSkippedReason;
    if (!fs::exists(model_file())) GTEST_SKIP() << "no " << model_file() << " (run ./setup.sh to fetch it)";
    ASSERT_GT(s_port, 0) << "the server did not start";
  }
  static httplib::Client client() {
    httplib::Client c("127.0.0.1", s_port);
    c.set_read_timeout(static_cast<time_t>(120 * kSlowdown), 0);
    return c;
  }
  static json post(const std::string& path, const json& body, int expect_status = 200) {
    auto c = client();
    auto res = c.Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(res) << "no response for " << path;
    if (!res) return {};
    EXPECT_EQ(res->status, expect_status) << res->body;
    return json::parse(res->body, nullptr, false);
  }
  static json stats() {
    auto c = client();
    auto res = c.Get("/xpusim/stats");
    return res ? json::parse(res->body) : json();
  }
  // Waits until the engine holds nothing (a cancelled request frees its KV before the next step).
  static bool drains() {
    for (int i = 0; i < 100 * kSlowdown; ++i) {
      json s = stats();
      if (s.value("active_requests", -1) == 0 && s.value("kv_reserved_tokens", -1) == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  static inline pid_t s_pid = -1;
  static inline int s_port = 0;
  static inline FILE* s_stdout = nullptr;
};

TEST_F(ServeTest, ModelsAndGreedyCompletionIsDeterministic) {
  auto c = client();
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "smollm2-135m");
  json request = {{"model", "smollm2-135m"},
                  {"prompt", "The capital of France is"},
                  {"max_tokens", 6},
                  {"temperature", 0}};
  json a = post("/v1/completions", request);
  json b = post("/v1/completions", request);
  EXPECT_EQ(a["choices"][0]["text"], b["choices"][0]["text"]);
  EXPECT_EQ(a["object"], "text_completion");
  EXPECT_EQ(a["usage"]["completion_tokens"], 6);
  EXPECT_EQ(a["choices"][0]["finish_reason"], "length");
}

TEST_F(ServeTest, ChatUsesTheTemplateAndStopStrings) {
  json answer = post("/v1/chat/completions",
                     {{"messages", {{{"role", "user"}, {"content", "What is the capital of France?"}}}},
                      {"temperature", 0},
                      {"max_tokens", 24}});
  const std::string text = answer["choices"][0]["message"]["content"];
  EXPECT_NE(text.find("Paris"), std::string::npos) << text;
  json stopped = post("/v1/chat/completions",
                      {{"messages", {{{"role", "user"}, {"content", "What is the capital of France?"}}}},
                       {"temperature", 0},
                       {"stop", "Paris"},
                       {"max_tokens", 24}});
  EXPECT_EQ(stopped["choices"][0]["message"]["content"].get<std::string>().find("Paris"), std::string::npos);
  EXPECT_EQ(stopped["choices"][0]["finish_reason"], "stop");
  json multi = post("/v1/chat/completions", {{"messages",
                                              {{{"role", "system"}, {"content", "Answer briefly."}},
                                               {{"role", "user"}, {"content", "Hi"}},
                                               {{"role", "assistant"}, {"content", "Hello!"}},
                                               {{"role", "user"}, {"content", "Bye"}}}},
                                             {"max_tokens", 4}});
  EXPECT_GT(multi["usage"]["prompt_tokens"].get<int64_t>(), 20);
}

TEST_F(ServeTest, StreamsServerSentEvents) {
  auto c = client();
  std::string body;
  auto res =
      c.Post("/v1/completions", json{{"prompt", "One, two,"}, {"max_tokens", 5}, {"stream", true}}.dump(),
             "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  int chunks = 0;
  size_t at = 0;
  while ((at = res->body.find("data: {", at)) != std::string::npos) {
    ++chunks;
    ++at;
  }
  EXPECT_GE(chunks, 2);
  EXPECT_NE(res->body.find("data: [DONE]"), std::string::npos);
}

TEST_F(ServeTest, BadRequestsGet400WithAMessage) {
  auto c = client();
  auto res = c.Post("/v1/completions", "{not json", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(json::parse(res->body)["error"]["message"].get<std::string>().find("JSON"), std::string::npos);
  post("/v1/completions", {{"prompt", "x"}, {"max_tokens", 0}}, 400);
  post("/v1/completions", {{"prompt", "x"}, {"top_p", 2}}, 400);
  post("/v1/completions", {{"prompt", "x"}, {"n", 100}}, 400);
  post("/v1/completions", {{"prompt", 5}}, 400);
  post("/v1/completions", {{"prompt", "x"}, {"model", "gpt-4"}}, 400);
  post("/v1/chat/completions", {{"messages", json::array()}}, 400);
  post("/v1/chat/completions", {{"messages", {{{"role", "robot"}, {"content", "hi"}}}}}, 400);
  std::string long_prompt(20000, 'a');
  for (size_t i = 1; i < long_prompt.size(); i += 2) long_prompt[i] = ' ';
  post("/v1/completions", {{"prompt", long_prompt}}, 400);  // longer than the context
}

TEST_F(ServeTest, ConcurrentClientsShareSteps) {
  ASSERT_TRUE(drains());
  const int64_t steps_before = stats()["steps"].get<int64_t>();
  std::vector<std::thread> threads;
  std::vector<json> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      results[static_cast<size_t>(i)] =
          post("/v1/completions",
               {{"prompt", "1, 2, 3, 4, " + std::to_string(i)}, {"max_tokens", 40}, {"temperature", 0}});
    });
  }
  for (auto& t : threads) t.join();
  int64_t request_steps = 0;
  for (const json& r : results) {
    ASSERT_TRUE(r.contains("usage"));
    EXPECT_GT(r["usage"]["completion_tokens"].get<int64_t>(), 0);
    request_steps += r["xpusim"]["steps"].get<int64_t>();
  }
  // Each request counts the steps it was in; the engine ran fewer because requests shared them.
  const int64_t engine_steps = stats()["steps"].get<int64_t>() - steps_before;
  EXPECT_LT(engine_steps, request_steps);
  EXPECT_TRUE(drains());
}

TEST_F(ServeTest, AbruptDisconnectsFreeTheirBlocks) {
  const std::string body =
      json{{"prompt", "1, 2, 3, 4, 5,"}, {"max_tokens", 1500}, {"temperature", 0}, {"stream", false}}.dump();
  // Greedy counting runs to max_tokens (~20 s here) unless the disconnect cancels it; drains() waits 5 s.
  {  // non-streaming: the client gives up after 0.3 s, mid-generation
    httplib::Client c("127.0.0.1", s_port);
    c.set_read_timeout(0, 300000);
    auto res = c.Post("/v1/completions", body, "application/json");
    EXPECT_FALSE(res && res->body.find("\"choices\"") != std::string::npos) << res->body;
  }
  EXPECT_TRUE(drains()) << "non-streaming: " << stats().dump();
  {  // streaming: the client hangs up after two chunks
    httplib::Client c("127.0.0.1", s_port);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body =
        json{{"prompt", "1, 2, 3, 4, 5,"}, {"max_tokens", 1500}, {"temperature", 0}, {"stream", true}}.dump();
    req.set_header("Content-Type", "application/json");
    int chunks = 0;
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 2; };
    auto res = c.send(req);
    EXPECT_EQ(chunks, 2);
  }
  EXPECT_TRUE(drains()) << "streaming: " << stats().dump();
}

TEST_F(ServeTest, CurlClient) {
  if (std::system("command -v curl > /dev/null 2>&1") != 0) GTEST_SKIP() << "curl not installed";
  const std::string command = "curl -sf http://127.0.0.1:" + std::to_string(s_port) +
                              "/v1/chat/completions -H 'Content-Type: application/json' -d "
                              "'{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4}' "
                              "| grep -q chat.completion";
  EXPECT_EQ(std::system(command.c_str()), 0);
}

TEST_F(ServeTest, OpenAiPythonClient) {
  std::string python = "python3";
  if (const char* env = std::getenv("XPUSIM_OPENAI_PYTHON"))
    python = env;
  else if (fs::exists(fs::path(XPUSIM_SOURCE_DIR) / "build/pyvenv/bin/python")) {
    python = (fs::path(XPUSIM_SOURCE_DIR) / "build/pyvenv/bin/python").string();
  }
  const std::string command =
      python + " " + XPUSIM_SOURCE_DIR +
      "/tests/serving/openai_client_test.py http://127.0.0.1:" + std::to_string(s_port) + "/v1 smollm2-135m";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    GTEST_SKIP() << "the openai Python package is not installed for " << python
                 << " (./setup.sh --test creates build/pyvenv with it; or set XPUSIM_OPENAI_PYTHON)";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(drains());
}

}  // namespace

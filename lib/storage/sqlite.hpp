#pragma once
// Thin RAII over the SQLite3 C API for the store: every failure becomes a
// StoreError naming the database file. Internal to the storage area.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace heal::sqlite {

class Connection {
public:
    // Opens read-write (creating if missing), or read-only (it must
    // exist); throws StoreError.
    explicit Connection(const std::filesystem::path& file, bool read_only = false);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Runs one or more statements that return no rows of interest.
    void exec(std::string_view sql, std::string_view what);
    // Runs a statement whose first column of the first row is the answer.
    std::int64_t query_int(std::string_view sql, std::string_view what);
    std::string query_text(std::string_view sql, std::string_view what);
    std::int64_t changes() const;
    std::int64_t last_insert_id() const;
    // Throws StoreError "<file>: <what>: <sqlite's message>".
    [[noreturn]] void fail(std::string_view what) const;

    sqlite3* handle() const { return db_; }
    const std::filesystem::path& file() const { return file_; }

private:
    std::filesystem::path file_;
    sqlite3* db_ = nullptr;
};

// A prepared statement, kept for the life of the connection and reused.
class Statement {
public:
    Statement(Connection& connection, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Resets the statement when the use ends, so no read transaction is left
    // open and the next use starts clean.
    class Use {
    public:
        explicit Use(Statement& statement) : statement_(statement) {}
        ~Use();
        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;

    private:
        Statement& statement_;
    };
    [[nodiscard]] Use use() { return Use(*this); }

    // Parameters are numbered from 1, as in SQL.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, double value);
    Statement& bind(int index, std::optional<double> value);
    Statement& bind(int index, std::optional<std::int64_t> value);  // NULL when absent
    Statement& bind(int index, std::string_view text);
    Statement& bind_blob(int index, std::span<const unsigned char> bytes);

    // Advances; true while a row is available. `what` names the operation in errors.
    bool step(std::string_view what);
    // Runs to completion (for statements without rows).
    void run(std::string_view what);

    // Columns are numbered from 0.
    std::int64_t column_int(int index) const;
    double column_double(int index) const;
    std::optional<double> column_optional_double(int index) const;
    std::optional<std::int64_t> column_optional_int(int index) const;
    std::string column_text(int index) const;
    std::optional<std::string> column_optional_text(int index) const;
    std::span<const unsigned char> column_blob(int index) const;

private:
    void check_bind(int rc);

    Connection& connection_;
    sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when left without commit().
class Transaction {
public:
    explicit Transaction(Connection& connection);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Connection& connection_;
    bool open_ = true;
};

}  // namespace heal::sqlite

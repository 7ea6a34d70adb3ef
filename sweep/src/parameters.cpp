#include <coopsweep/sweep/parameters.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace coopsweep::sweep {
namespace {

using kernels::ModelParams;
using kernels::Topology;
using kernels::UpdateRule;

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr std::array<std::string_view, 6> topology_names = {"ring",       "regular", "small_world",
                                                            "scale_free", "random",  "complete"};
constexpr std::array<std::string_view, 3> update_rule_names = {"none", "fermi", "death_birth"};
constexpr std::span<const std::string_view> no_choices{};

using Member = std::variant<std::int64_t ModelParams::*, double ModelParams::*, bool ModelParams::*,
                            Topology ModelParams::*, UpdateRule ModelParams::*>;

struct Entry {
  ParameterInfo info;
  Member member;
};

constexpr ParameterKind I = ParameterKind::integer;
constexpr ParameterKind R = ParameterKind::real;

const std::array<Entry, 30> table = {{
    {{"firms", "N", I, "integer, 2 to 10^6", "number of firms", 2, 1e6, no_choices}, &ModelParams::firms},
    {{"partners", "k", I, "integer, 1 to N-1", "partner count (mean degree of the alliance graph)", 1, inf,
      no_choices},
     &ModelParams::partners},
    {{"topology", "", ParameterKind::choice, "ring, regular, small_world, scale_free, random, complete",
      "alliance graph family", 0, 0, topology_names},
     &ModelParams::topology},
    {{"rewire", "p", R, "[0, 1]", "rewiring probability (small_world only)", 0, 1, no_choices},
     &ModelParams::rewire},
    {{"rounds", "T", I, "integer >= 1", "rounds of the repeated game", 1, inf, no_choices}, &ModelParams::rounds},
    {{"window", "W", I, "integer, 1 to T", "metrics are taken over the last W rounds", 1, inf, no_choices},
     &ModelParams::window},
    {{"scope", "s", R, "[0, 1]", "share of activities on which partners cooperate", 0, 1, no_choices},
     &ModelParams::scope},
    {{"benefit", "b", R, ">= 0", "value a cooperative act creates for the partner at full scope", 0, inf,
      no_choices},
     &ModelParams::benefit},
    {{"cost", "c", R, ">= 0", "cost of a cooperative act to the actor at full scope", 0, inf, no_choices},
     &ModelParams::cost},
    {{"synergy", "g", R, ">= 0", "extra value, per firm, when both partners cooperate, at full scope", 0, inf,
      no_choices},
     &ModelParams::synergy},
    {{"market", "M", R, ">= 0", "value of the competitive market per firm and round", 0, inf, no_choices},
     &ModelParams::market},
    {{"upkeep", "kappa", R, ">= 0", "governance cost of one active alliance per round", 0, inf, no_choices},
     &ModelParams::upkeep},
    {{"leakage", "lambda", R, "[0, 1]", "knowledge leaked per cooperative act at full scope", 0, 1, no_choices},
     &ModelParams::leakage},
    {{"innovation", "rho", R, "[0, 1]", "rate at which a firm rebuilds its differentiation", 0, 1, no_choices},
     &ModelParams::innovation},
    {{"size_spread", "sigma", R, ">= 0", "spread of firm sizes (power imbalance); 0 = equal firms", 0, inf,
      no_choices},
     &ModelParams::size_spread},
    {{"trust_init", "tau0", R, "[0, 1]", "trust in a new partner", 0, 1, no_choices}, &ModelParams::trust_init},
    {{"trust_threshold", "h", R, "[0, 1]", "a conditional firm cooperates while its trust is at least h", 0, 1,
      no_choices},
     &ModelParams::trust_threshold},
    {{"trust_gain", "alpha", R, "[0, 1]", "trust gained when the partner cooperates", 0, 1, no_choices},
     &ModelParams::trust_gain},
    {{"trust_loss", "beta", R, "[0, 1]", "share of trust lost when the partner defects", 0, 1, no_choices},
     &ModelParams::trust_loss},
    {{"trust_decay", "delta", R, "[0, 1]", "share of trust that decays every round", 0, 1, no_choices},
     &ModelParams::trust_decay},
    {{"exit_threshold", "theta", R, "[0, 1]",
      "an alliance dissolves when either side's trust falls below theta", 0, 1, no_choices},
     &ModelParams::exit_threshold},
    {{"error", "epsilon", R, "[0, 1]", "probability that an intended cooperative act fails", 0, 1, no_choices},
     &ModelParams::error},
    {{"defectors", "f_D", R, "[0, 1]", "initial share of free riders", 0, 1, no_choices},
     &ModelParams::defectors},
    {{"cooperators", "f_C", R, "[0, 1], f_C + f_D <= 1", "initial share of unconditional cooperators", 0, 1,
      no_choices},
     &ModelParams::cooperators},
    {{"update_rule", "", ParameterKind::choice, "none, fermi, death_birth", "strategy evolution", 0, 0,
      update_rule_names},
     &ModelParams::update_rule},
    {{"update_every", "u", I, "integer >= 1", "rounds between strategy updates", 1, inf, no_choices},
     &ModelParams::update_every},
    {{"births", "", I, "integer >= 1", "death-birth events per strategy update", 1, inf, no_choices},
     &ModelParams::births},
    {{"selection", "w", R, ">= 0", "selection intensity", 0, inf, no_choices}, &ModelParams::selection},
    {{"mutation", "mu", R, "[0, 1]", "probability that an update picks a uniformly random strategy", 0, 1,
      no_choices},
     &ModelParams::mutation},
    {{"stop_on_fixation", "", ParameterKind::boolean, "true or false",
      "end the run once every firm has the same strategy and mu = 0", 0, 0, no_choices},
     &ModelParams::stop_on_fixation},
}};

const std::array<ParameterInfo, table.size()> infos = [] {
  std::array<ParameterInfo, table.size()> out{};
  for (std::size_t i = 0; i < table.size(); ++i) out[i] = table[i].info;
  return out;
}();

const Entry& find_entry(std::string_view name) {
  for (const auto& entry : table) {
    if (entry.info.name == name) return entry;
  }
  // Suggest the nearest name by edit distance, for typos such as "scop".
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  std::string_view best;
  std::size_t best_distance = 3;  // suggest only close names
  for (const auto& entry : table) {
    const auto d = distance(name, entry.info.name);
    if (d < best_distance) {
      best_distance = d;
      best = entry.info.name;
    }
  }
  std::string message = "unknown parameter '" + std::string(name) + "'";
  message += best.empty() ? "; run 'coopsweep parameters' for the list"
                          : "; did you mean '" + std::string(best) + "'?";
  throw InputError(message);
}

std::string kind_name(ParameterKind kind) {
  switch (kind) {
    case ParameterKind::integer: return "an integer";
    case ParameterKind::real: return "a number";
    case ParameterKind::boolean: return "true or false";
    case ParameterKind::choice: return "one of the names";
  }
  return "";
}

[[noreturn]] void reject(const ParameterInfo& info, const ParameterValue& value, std::string_view allowed) {
  throw InputError("parameter '" + std::string(info.name) + "' = " + format_value(value) +
                   " is not allowed; allowed: " + std::string(allowed));
}

std::string allowed_text(const ParameterInfo& info) {
  if (info.kind == ParameterKind::choice) {
    std::string out = "one of";
    for (std::size_t i = 0; i < info.choices.size(); ++i) {
      out += (i ? ", '" : " '") + std::string(info.choices[i]) + "'";
    }
    return out;
  }
  return std::string(info.domain);
}

template <typename Enum>
Enum choice_from(const ParameterInfo& info, const ParameterValue& value) {
  const auto* text = std::get_if<std::string>(&value);
  if (text == nullptr) reject(info, value, allowed_text(info));
  const auto it = std::find(info.choices.begin(), info.choices.end(), *text);
  if (it == info.choices.end()) reject(info, value, allowed_text(info));
  return static_cast<Enum>(it - info.choices.begin());
}

}  // namespace

std::span<const ParameterInfo> parameter_table() { return infos; }

const ParameterInfo& find_parameter(std::string_view name) { return find_entry(name).info; }

std::string format_value(const ParameterValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return "'" + v + "'";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(v)) return "nan";
          if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
          // The shortest text that reads back to the same double.
          char text[32];
          const auto result = std::to_chars(text, text + sizeof text, v);
          return std::string(text, result.ptr);
        } else {
          return std::to_string(v);
        }
      },
      value);
}

void set_parameter(ModelParams& params, std::string_view name, const ParameterValue& value) {
  const Entry& entry = find_entry(name);
  const ParameterInfo& info = entry.info;
  switch (info.kind) {
    case ParameterKind::integer: {
      const auto* v = std::get_if<std::int64_t>(&value);
      if (v == nullptr) reject(info, value, std::string(info.domain) + " (" + kind_name(info.kind) + ")");
      if (static_cast<double>(*v) < info.lower || static_cast<double>(*v) > info.upper) {
        reject(info, value, info.domain);
      }
      params.*std::get<std::int64_t ModelParams::*>(entry.member) = *v;
      return;
    }
    case ParameterKind::real: {
      double x = 0.0;
      if (const auto* i = std::get_if<std::int64_t>(&value)) {
        x = static_cast<double>(*i);
      } else if (const auto* d = std::get_if<double>(&value)) {
        x = *d;
      } else {
        reject(info, value, std::string(info.domain) + " (" + kind_name(info.kind) + ")");
      }
      if (!std::isfinite(x)) reject(info, value, std::string(info.domain) + ", a finite number");
      if (x < info.lower || x > info.upper) reject(info, value, info.domain);
      params.*std::get<double ModelParams::*>(entry.member) = x;
      return;
    }
    case ParameterKind::boolean: {
      const auto* v = std::get_if<bool>(&value);
      if (v == nullptr) reject(info, value, info.domain);
      params.*std::get<bool ModelParams::*>(entry.member) = *v;
      return;
    }
    case ParameterKind::choice: {
      if (const auto* m = std::get_if<Topology ModelParams::*>(&entry.member)) {
        params.**m = choice_from<Topology>(info, value);
      } else {
        params.*std::get<UpdateRule ModelParams::*>(entry.member) = choice_from<UpdateRule>(info, value);
      }
      return;
    }
  }
}

ParameterValue parse_parameter_text(std::string_view name, std::string_view text) {
  const ParameterInfo& info = find_parameter(name);
  const auto bad = [&]() -> ParameterValue {
    throw InputError("parameter '" + std::string(name) + "' = '" + std::string(text) +
                     "' is not " + kind_name(info.kind) + "; allowed: " + allowed_text(info));
  };
  switch (info.kind) {
    case ParameterKind::integer: {
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return bad();
      return v;
    }
    case ParameterKind::real: {
      double v = 0.0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return bad();
      return v;
    }
    case ParameterKind::boolean:
      if (text == "true") return true;
      if (text == "false") return false;
      return bad();
    case ParameterKind::choice:
      return std::string(text);
  }
  return bad();
}

ParameterValue get_parameter(const ModelParams& params, std::string_view name) {
  const Entry& entry = find_entry(name);
  return std::visit(
      [&](auto member) -> ParameterValue {
        const auto& v = params.*member;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Topology> || std::is_same_v<T, UpdateRule>) {
          return std::string(entry.info.choices[static_cast<std::size_t>(v)]);
        } else {
          return v;
        }
      },
      entry.member);
}

ModelParams resolve_model(ModelParams p) {
  const std::string topology(topology_names[static_cast<std::size_t>(p.topology)]);
  if (p.topology == Topology::complete) {
    p.partners = p.firms - 1;  // MODEL.md: complete sets k = N - 1
  } else if (p.partners > p.firms - 1) {
    throw InputError("parameter 'partners' = " + std::to_string(p.partners) +
                     " is not allowed; allowed: integer 1 to firms - 1 = " + std::to_string(p.firms - 1));
  }
  const bool needs_even_k =
      p.topology == Topology::ring || p.topology == Topology::small_world || p.topology == Topology::scale_free;
  if (needs_even_k && p.partners % 2 != 0) {
    throw InputError("parameter 'partners' = " + std::to_string(p.partners) + " is not allowed with topology '" +
                     topology + "'; allowed: an even number (ring, small_world and scale_free need even k)");
  }
  if (p.topology == Topology::regular && (p.firms * p.partners) % 2 != 0) {
    throw InputError("parameter 'partners' = " + std::to_string(p.partners) + " is not allowed with topology "
                     "'regular' and firms = " + std::to_string(p.firms) +
                     "; allowed: firms * partners even (a k-regular graph on N firms needs N*k even)");
  }
  if (p.firms * p.partners > max_directed_edges) {
    throw InputError("parameters 'firms' * 'partners' = " + std::to_string(p.firms) + " * " +
                     std::to_string(p.partners) + " is too large; allowed: at most " +
                     std::to_string(max_directed_edges) + " directed alliance edges");
  }
  if (p.window > p.rounds) {
    throw InputError("parameter 'window' = " + std::to_string(p.window) +
                     " is not allowed; allowed: integer 1 to rounds = " + std::to_string(p.rounds));
  }
  if (p.cooperators + p.defectors > 1.0) {
    throw InputError("parameter 'cooperators' = " + format_value(p.cooperators) +
                     " is not allowed with defectors = " + format_value(p.defectors) +
                     "; allowed: cooperators + defectors <= 1");
  }
  return p;
}

}  // namespace coopsweep::sweep

#pragma once
/// \file
/// A hasher of any type behind one value type, for programs that choose the method at run time
/// (the CLI, model files). Typed code uses the hasher classes directly.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/training.hpp"

namespace rlhash {

class AnyHasher {
 public:
  AnyHasher() = default;
  template <class Hasher>
  explicit AnyHasher(Hasher hasher) : self_(std::make_shared<Holder<Hasher>>(std::move(hasher))) {}

  bool empty() const { return !self_; }
  std::string method() const { return get().method(); }
  int bits() const { return get().bits(); }
  /// The config as (field, value) text, in declaration order.
  std::vector<std::pair<std::string, std::string>> config() const { return get().config(); }
  /// Sets one config field (before fit); unknown fields are an error listing the valid ones.
  void set(const std::string& field, const std::string& value) { mutable_self().set(field, value); }

  void fit(const Eigen::Ref<const MatrixF>& features, const Labels& labels, const FitOptions& options = {}) {
    check_fit_options(options);
    mutable_self().fit(features, labels, options);
  }
  /// InvalidArgument naming the method and why, when it cannot fit with `options`: replicas
  /// (data-parallel training) for a hasher without `data_parallel`, image augmentation for one
  /// without `augments_images` (methods/hasher.hpp).
  void check_fit_options(const FitOptions& options) const { get().check_fit_options(options); }
  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const { return get().encode(features); }

  void save_config(ByteWriter& out) const { get().save_config(out); }
  void load_config(ByteReader& in) { mutable_self().load_config(in); }
  void save(ByteWriter& out) const { get().save(out); }
  void load(ByteReader& in) { mutable_self().load(in); }

  /// The wrapped hasher, when it is of type `Hasher`; nullptr otherwise.
  template <class Hasher>
  Hasher* target() {
    auto* holder = dynamic_cast<Holder<Hasher>*>(self_.get());
    return holder ? &holder->hasher : nullptr;
  }

 private:
  struct Interface {
    virtual ~Interface() = default;
    virtual std::shared_ptr<Interface> clone() const = 0;
    virtual std::string method() const = 0;
    virtual int bits() const = 0;
    virtual std::vector<std::pair<std::string, std::string>> config() const = 0;
    virtual void set(const std::string& field, const std::string& value) = 0;
    virtual void fit(const Eigen::Ref<const MatrixF>&, const Labels&, const FitOptions&) = 0;
    virtual void check_fit_options(const FitOptions&) const = 0;
    virtual BinaryCodes encode(const Eigen::Ref<const MatrixF>&) const = 0;
    virtual void save_config(ByteWriter&) const = 0;
    virtual void load_config(ByteReader&) = 0;
    virtual void save(ByteWriter&) const = 0;
    virtual void load(ByteReader&) = 0;
  };

  template <class Hasher>
  struct Holder final : Interface {
    explicit Holder(Hasher h) : hasher(std::move(h)) {}
    std::shared_ptr<Interface> clone() const override { return std::make_shared<Holder>(*this); }
    std::string method() const override { return Hasher::method_name; }
    int bits() const override { return hasher.config().bits; }
    std::vector<std::pair<std::string, std::string>> config() const override {
      return field_values(hasher.config());
    }
    void set(const std::string& field, const std::string& value) override {
      auto config = hasher.config();
      set_field(config, field, value, "--set " + std::string(Hasher::method_name) + "." + field);
      hasher = Hasher(config);
    }
    void fit(const Eigen::Ref<const MatrixF>& x, const Labels& y, const FitOptions& o) override {
      hasher.fit(x, y, o);
    }
    void check_fit_options(const FitOptions& o) const override {
      if constexpr (!is_data_parallel_v<Hasher>) detail::refuse_replicas<Hasher>(o);
      if constexpr (!augments_images_v<Hasher>) detail::check_augmentation<Hasher>(o, 0);
    }
    BinaryCodes encode(const Eigen::Ref<const MatrixF>& x) const override { return hasher.encode(x); }
    void save_config(ByteWriter& out) const override { rlhash::save_config(out, hasher.config()); }
    void load_config(ByteReader& in) override { hasher = Hasher(rlhash::load_config(in, hasher.config())); }
    void save(ByteWriter& out) const override { hasher.save(out); }
    void load(ByteReader& in) override { hasher.load(in); }
    Hasher hasher;
  };

  const Interface& get() const {
    if (!self_) throw StateError("AnyHasher: no hasher set");
    return *self_;
  }
  // Copies share the hasher until one of them changes it (copy on write).
  Interface& mutable_self() {
    if (!self_) throw StateError("AnyHasher: no hasher set");
    if (self_.use_count() > 1) self_ = self_->clone();
    return *self_;
  }

  std::shared_ptr<Interface> self_;
};

}  // namespace rlhash

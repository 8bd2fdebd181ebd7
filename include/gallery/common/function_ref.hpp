#pragma once
// A non-owning reference to a callable taking no argument and returning nothing, for
// code that runs a caller's function but cannot be a template (it lives in a .cpp).
// The callable must outlive the reference; calling it must not throw.

#include <memory>
#include <type_traits>

namespace gallery {

class FunctionRef {
  public:
    template <class Callable>
    requires(!std::is_same_v<std::remove_cvref_t<Callable>, FunctionRef>)
        FunctionRef(Callable& callable)  // NOLINT(google-explicit-constructor): a view
        : m_object(std::addressof(callable)),
          m_call([](void* object) { (*static_cast<Callable*>(object))(); }) {}

    void operator()() const { m_call(m_object); }

  private:
    void* m_object;
    void (*m_call)(void*);
};

}  // namespace gallery

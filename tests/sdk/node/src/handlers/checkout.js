function priceOf(cart) {
  return cart.items.reduce((sum, item) => sum + item.price * item.qty, 0);
}
function handleCheckout(req) {
  const total = priceOf(req.cart);
  return { total };
}
module.exports = { handleCheckout };

// The catalog and the product page (with "Add to cart" while the product is sold).
import { MAX_QUANTITY } from '../domain/checkout.ts';
import type { Product } from '../storage/catalog.ts';
import { CsrfField, Field, Layout, Notice, Placeholder, show, type PageCtx } from './layout.tsx';

const ProductCard = ({ p }: { p: Product }) => (
  <div class="card product-card" data-testid="product">
    <Placeholder name={p.name} hue={p.imageHue} />
    <a class="title" href={`/products/${p.id}`}>
      {p.name}
    </a>
    <span class="price">{show(p.price)}</span>
  </div>
);

/** Every product for sale. */
export const CatalogPage = ({ ctx, products }: { ctx: PageCtx; products: readonly Product[] }) => (
  <Layout ctx={ctx} title="Catalog">
    <h1>Catalog</h1>
    <div class="grid">
      {products.map((p) => (
        <ProductCard p={p} />
      ))}
    </div>
  </Layout>
);

/** One product; `quantity` and `error` echo a refused "Add to cart". */
export const ProductPage = (p: { ctx: PageCtx; product: Product; quantity?: string | undefined; error?: string }) => (
  <Layout ctx={p.ctx} title={p.product.name}>
    <div class="product">
      <Placeholder name={p.product.name} hue={p.product.imageHue} />
      <div>
        <h1>{p.product.name}</h1>
        <p class="price" data-testid="price">
          {show(p.product.price)}
        </p>
        <p>{p.product.description}</p>
        {p.product.archived ? (
          <Notice>This product is no longer sold.</Notice>
        ) : (
          <form class="stack" method="post" action="/cart/add">
            <CsrfField token={p.ctx.csrf} />
            <input type="hidden" name="productId" value={p.product.id} />
            <Field
              name="quantity"
              label="Quantity"
              type="number"
              value={p.quantity ?? '1'}
              min="1"
              max={String(MAX_QUANTITY)}
              step="1"
              inputmode="numeric"
              error={p.error}
            />
            <div class="actions">
              <button type="submit">Add to cart</button>
            </div>
          </form>
        )}
      </div>
    </div>
  </Layout>
);
